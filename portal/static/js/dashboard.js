// The big screen's charts, drawn with ECharts from the JSON the server puts on the live part (its
// data-charts attribute), and drawn again each time htmx swaps that part for a newer one.
// A chart keeps its instance across swaps (its element is moved into the new markup) so an update does
// not blank the screen; open tables, their scroll position and the focus stay as they were. Animation only
// on the first drawing, and never when the viewer asks for reduced motion. While the page is hidden it polls
// once a minute instead of every second. Without this script every figure is in the tables and the page
// reloads itself every 30 seconds.
(function () {
  "use strict";

  var instances = {};  // chart name → ECharts instance
  var drawnFor = null;  // the #dashboard-live element last drawn
  var lookKey = "";
  var kept = null;  // what the viewer had open or focused before a swap
  var reduced = window.matchMedia("(prefers-reduced-motion: reduce)");

  function cssVar(el, name, fallback) {
    var value = getComputedStyle(el).getPropertyValue(name).trim();
    return value || fallback;
  }

  // Colours come from the stylesheet, so the charts follow its light (phone) and dark (big screen) themes.
  function look(root) {
    var t = {
      ink: cssVar(root, "--dash-ink", "#1a1a1a"),
      muted: cssVar(root, "--dash-muted", "#4d4d4d"),
      line: cssVar(root, "--dash-line", "#c9c9c9"),
      up: cssVar(root, "--dash-up", "#b3111f"),
      down: cssVar(root, "--dash-down", "#0b6b2e"),
      average: cssVar(root, "--dash-average", "#1f5fbf"),
      tooltip: cssVar(root, "--dash-tooltip", "#ffffff"),
      palette: cssVar(root, "--dash-palette", "#b3111f, #1f5fbf, #0b6b2e, #8a5a00, #6b2fa3, #00747a")
        .split(",").map(function (c) { return c.trim(); }),
      font: getComputedStyle(root).fontFamily
    };
    t.key = [t.ink, t.muted, t.line, t.palette.join()].join("|");
    return t;
  }

  function base(d, t, animate) {
    return {
      aria: { enabled: true, label: { description: d.summary }, decal: { show: false } },
      animation: animate,
      backgroundColor: "transparent",
      color: t.palette,
      textStyle: { fontFamily: t.font, color: t.ink }
    };
  }

  // Tooltips drawn on the canvas: ECharts' HTML tooltips carry style="" attributes, which the CSP refuses.
  function tooltip(t, options) {
    return Object.assign({ renderMode: "richText", backgroundColor: t.tooltip, borderColor: t.line,
                           textStyle: { color: t.ink, fontSize: 14 } }, options);
  }

  // Only what may be drawn: the public screen sends null for every count it shows as "<5".
  function slices(items) {
    return items.filter(function (item) { return item.value !== null && item.value > 0; });
  }

  // Slices named beside them on a wide screen; on a phone, where names beside a pie are cut off, in a legend
  // below it with their counts.
  function pie(d, t, animate, radius, el) {
    var narrow = el.clientWidth < 480;
    var data = slices(d.items);
    var counts = {};
    data.forEach(function (item) { counts[item.name] = item.value; });
    var option = base(d, t, animate);
    option.tooltip = tooltip(t, { trigger: "item", formatter: "{b}: {c} ({d}%)" });
    if (narrow) {
      option.legend = { bottom: 0, itemGap: 12, textStyle: { color: t.ink, fontSize: 14 },
                        formatter: function (name) { return name + " " + counts[name]; } };
    }
    option.series = [{
      type: "pie", name: d.name, data: data, center: ["50%", narrow ? "36%" : "50%"],
      radius: radius.map(function (r) { return (narrow ? r * 0.9 : r) + "%"; }),
      showEmptyCircle: true, emptyCircleStyle: { color: t.line }, avoidLabelOverlap: true,
      label: { show: !narrow, color: t.ink, fontSize: 14, formatter: "{b}\n{c}" },
      labelLine: { show: !narrow, lineStyle: { color: t.muted } },
      itemStyle: { borderColor: "rgba(0,0,0,0)", borderWidth: 2 }
    }];
    return option;
  }

  var BUILDERS = {
    channels: function (d, t, animate, el) { return pie(d, t, animate, [42, 68], el); },
    categories: function (d, t, animate, el) { return pie(d, t, animate, [0, 68], el); },
    kline: function (d, t, animate) {
      var option = base(d, t, animate);
      var axis = { axisLabel: { color: t.muted, fontSize: 13 }, axisLine: { lineStyle: { color: t.line } } };
      option.tooltip = tooltip(t, { trigger: "axis" });
      option.legend = { top: 0, textStyle: { color: t.ink, fontSize: 14 }, data: [d.name, d.average_name] };
      option.grid = { left: 44, right: 12, top: 36, bottom: 28 };
      option.xAxis = Object.assign({ type: "category", data: d.days }, axis);
      option.yAxis = Object.assign({ type: "value", min: 0, minInterval: 1,
                                     splitLine: { lineStyle: { color: t.line, opacity: 0.5 } } }, axis);
      option.series = [
        { type: "candlestick", name: d.name, data: d.candles,
          itemStyle: { color: t.up, color0: t.down, borderColor: t.up, borderColor0: t.down } },
        { type: "line", name: d.average_name, data: d.average, showSymbol: false, smooth: true,
          lineStyle: { width: 3, color: t.average }, itemStyle: { color: t.average } }
      ];
      return option;
    },
    words: function (d, t, animate) {
      var option = base(d, t, animate);
      option.tooltip = tooltip(t, { formatter: "{b}: {c}" });
      option.series = [{
        type: "wordCloud", name: d.name, data: d.items, shape: "circle", left: "center", top: "center",
        width: "96%", height: "96%", sizeRange: [16, 64], rotationRange: [0, 0], gridSize: 10,
        drawOutOfBound: false, shrinkToFit: true, layoutAnimation: animate,
        textStyle: { fontFamily: t.font, fontWeight: "bold",
                     color: function (p) { return t.palette[p.dataIndex % t.palette.length]; } }
      }];
      return option;
    }
  };

  function draw(first) {
    var live = document.getElementById("dashboard-live");
    var screen = document.querySelector("[data-dashboard]");
    if (!live || !live.hasAttribute("data-charts") || !screen || typeof echarts === "undefined") { return; }
    drawnFor = live;
    screen.classList.add("charts-on");  // before drawing: the chart boxes are hidden without this script
    var data = JSON.parse(live.getAttribute("data-charts"));
    var t = look(screen);
    var restyled = t.key !== lookKey;
    lookKey = t.key;
    var animate = first && !reduced.matches;
    var locale = document.documentElement.lang.indexOf("zh") === 0 ? "ZH" : "EN";
    var next = {};
    live.querySelectorAll("[data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart");
      var build = BUILDERS[name];
      if (!build || !data[name]) { return; }
      var chart = instances[name];
      if (chart && !chart.isDisposed() && !restyled) {
        var dom = chart.getDom();
        if (dom !== el) {
          dom.setAttribute("aria-label", el.getAttribute("aria-label"));
          el.replaceWith(dom);
        }
      } else {
        if (chart && !chart.isDisposed()) { chart.dispose(); }
        chart = echarts.init(el, null, { locale: locale });
      }
      chart.setOption(build(data[name], t, animate, chart.getDom()), { notMerge: true });
      next[name] = chart;
    });
    Object.keys(instances).forEach(function (name) {
      if (!next[name] && !instances[name].isDisposed()) { instances[name].dispose(); }
    });
    instances = next;
  }

  // What scrolls inside the live part: an open table (its <details> on the wall screen, its wrapper on a
  // phone) and the breakdown's table. Keyed so the same box is found again in the new markup.
  function scrollers(live) {
    var found = {};
    live.querySelectorAll("details[data-keep]").forEach(function (d) {
      found[d.getAttribute("data-keep")] = d;
      var table = d.querySelector(".table-scroll");
      if (table) { found[d.getAttribute("data-keep") + "-table"] = table; }
    });
    var breakdown = live.querySelector("#categories-table");
    if (breakdown) { found["categories-table"] = breakdown; }
    return found;
  }

  // Before htmx replaces the live part: which tables were open and how far scrolled, what had focus. A
  // swap every second must not close what the viewer opened or throw them back to the top of a table.
  function remember() {
    var live = document.getElementById("dashboard-live");
    if (!live) { return; }
    var focused = document.activeElement;
    var boxes = scrollers(live);
    var scroll = {};
    Object.keys(boxes).forEach(function (key) { scroll[key] = [boxes[key].scrollTop, boxes[key].scrollLeft]; });
    kept = {
      open: Array.prototype.map.call(live.querySelectorAll("details[open]"), function (d) {
        return d.getAttribute("data-keep");
      }),
      scroll: scroll,
      page: window.scrollY,
      // a link of the breakdown leads to its next level: the table of that level takes the focus
      focus: !focused || !live.contains(focused) ? null
        : focused.id || (focused.closest("#figure-categories") ? "categories-table" : null)
    };
  }

  function restore(live) {
    if (!kept) { return; }
    live.querySelectorAll("details[data-keep]").forEach(function (d) {
      d.open = kept.open.indexOf(d.getAttribute("data-keep")) !== -1;
    });
    var boxes = scrollers(live);
    Object.keys(kept.scroll).forEach(function (key) {
      if (boxes[key]) { boxes[key].scrollTop = kept.scroll[key][0]; boxes[key].scrollLeft = kept.scroll[key][1]; }
    });
    if (window.scrollY !== kept.page) { window.scrollTo(window.scrollX, kept.page); }
    var target = kept.focus && document.getElementById(kept.focus);
    if (target && target !== document.activeElement) { target.focus({ preventScroll: true }); }
    kept = null;
  }

  function swapped() {
    var live = document.getElementById("dashboard-live");
    if (live && live !== drawnFor) {
      restore(live);
      draw(false);
    }
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dashboard-live") { remember(); }
  });
  document.addEventListener("htmx:load", swapped);
  document.addEventListener("htmx:afterSettle", swapped);

  // A screen nobody looks at (a tab in the background, a phone in a pocket) asks once a minute, not every
  // second: htmx's poll still ticks, and this refuses all but one tick a minute. Shown again, the screen asks
  // at once (the live part's "dashboard-refresh" trigger) and catches up before the viewer has looked twice.
  var HIDDEN_EVERY_MS = 60000;
  var lastPoll = 0;

  function hidden() { return document.visibilityState === "hidden"; }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "dashboard-live") { return; }
    var now = Date.now();
    if (hidden() && now - lastPoll < HIDDEN_EVERY_MS) { event.preventDefault(); return; }
    lastPoll = now;
  });
  document.addEventListener("visibilitychange", function () {
    var live = document.getElementById("dashboard-live");
    if (!hidden() && live && window.htmx) { window.htmx.trigger(live, "dashboard-refresh"); }
  });

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      // every chart to its new size, then its options again: the theme and a pie's radius follow the width
      Object.keys(instances).forEach(function (name) { instances[name].resize(); });
      draw(false);
    }, 150);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(true); });
  } else {
    draw(true);
  }
}());
