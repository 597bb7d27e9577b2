// What the dashboard draws (portal/static/js/dashboard.js), and nothing else: ECharts' modular build from
// echarts/core with the three series, the four components and the canvas renderer its options name, and the
// word-cloud series registered on the same core. Bundled as an IIFE that sets the global `echarts`.
import { use } from "echarts/core";
import { CandlestickChart, LineChart, PieChart } from "echarts/charts";
import { AriaComponent, GridSimpleComponent, LegendPlainComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import "echarts-wordcloud";

use([PieChart, CandlestickChart, LineChart, AriaComponent, GridSimpleComponent, LegendPlainComponent, TooltipComponent,
     CanvasRenderer]);

export * from "echarts/core";
