// The counter's camera: where the browser reads QR codes itself (BarcodeDetector) and can open a camera,
// "Scan the QR code" opens the rear camera, fills the member code with the QR's token and sends the form.
// Elsewhere the button stays hidden and the cashier types the code: the form is the same either way.
(function () {
  "use strict";
  var box = document.querySelector("[data-scan]");
  if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var form = box.closest("form");
  var input = form.querySelector("[data-scan-input]");
  var button = box.querySelector("[data-scan-button]");
  var video = box.querySelector("[data-scan-video]");
  var status = box.querySelector("[data-scan-status]");
  var label = button.textContent;
  var detector = null;
  var stream = null;
  var timer = null;

  // The camera light goes off as soon as the code is read, the cashier stops, or the page is left.
  function stop() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    video.pause();
    video.srcObject = null;
    video.hidden = true;
    button.textContent = label;
  }

  function look() {
    if (!stream) { return; }
    detector.detect(video).then(function (codes) {
      if (!stream) { return; }
      for (var i = 0; i < codes.length; i += 1) {
        if (codes[i].rawValue) {
          input.value = codes[i].rawValue;
          stop();
          status.textContent = "";
          form.requestSubmit();
          return;
        }
      }
      timer = setTimeout(look, 200);
    }, function () {  // the first frames may not be ready yet
      timer = setTimeout(look, 400);
    });
  }

  function start() {
    status.textContent = box.dataset.starting;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (opened) {
        stream = opened;
        video.srcObject = opened;
        video.hidden = false;
        button.textContent = box.dataset.stop;
        status.textContent = box.dataset.looking;
        return video.play();
      })
      .then(look)
      .catch(function () {
        stop();
        status.textContent = box.dataset.failed;
        input.focus();
      });
  }

  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") === -1) { return; }
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    box.hidden = false;
    button.addEventListener("click", function () {
      if (stream) {
        stop();
        status.textContent = "";
      } else {
        start();
      }
    });
    form.addEventListener("submit", stop);
    window.addEventListener("pagehide", stop);
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { stop(); }
    });
  }).catch(function () { /* no QR support: typing the code is the way */ });
}());
