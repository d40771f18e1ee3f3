// 数据看板: draws the charts from the JSON the page carries (json_script), with the vendored ECharts.
// No inline scripts: the content security policy forbids them.
(function () {
  "use strict";
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';

  function readData() {
    var node = document.getElementById("case-dashboard-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function volumeChart(node, data) {
    var chart = echarts.init(node, null, { renderer: "canvas" });
    chart.setOption({
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 16, top: 64, bottom: 32 },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", name: data.labels.unit, minInterval: 1 },
      series: data.series.map(function (serie) {
        return { name: serie.name, type: "bar", stack: "cases", emphasis: { focus: "series" }, data: serie.data };
      })
    });
    return chart;
  }

  function departmentChart(node, data) {
    var rows = data.departments.slice(0, 15);
    var chart = echarts.init(node, null, { renderer: "canvas" });
    chart.setOption({
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 56, top: 64, bottom: 72 },
      xAxis: { type: "category", data: rows.map(function (row) { return row.name; }), axisLabel: { rotate: 30 } },
      yAxis: [
        { type: "value", name: data.labels.unit, minInterval: 1 },
        { type: "value", name: data.labels.on_time, min: 0, max: 100, axisLabel: { formatter: "{value}%" } }
      ],
      series: [
        { name: data.labels.cases, type: "bar", data: rows.map(function (row) { return row.cases; }) },
        {
          name: data.labels.on_time, type: "line", yAxisIndex: 1,
          data: rows.map(function (row) { return row.on_time === null ? null : Math.round(row.on_time * 1000) / 10; })
        }
      ]
    });
    return chart;
  }

  function start() {
    var data = readData();
    var form = document.getElementById("dashboard-filters");
    if (form) {
      // Picking another unit or period shows it at once (the 查看 button does the same without scripts).
      form.addEventListener("change", function () { form.submit(); });
    }
    if (!data || typeof echarts === "undefined") { return; }
    var charts = [];
    var volume = document.getElementById("volume-chart");
    if (volume && data.series.length) { charts.push(volumeChart(volume, data)); }
    var departments = document.getElementById("department-chart");
    if (departments && data.departments.length) { charts.push(departmentChart(departments, data)); }
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
