// The console's only script: shows moments in the reader's time zone, and draws each daily series from the JSON data block next to it with
// uPlot (bar charts are SVG drawn by the server). It computes nothing: values, intervals, labels
// and colours all come from the server's report functions.
(() => {
  const show = (unit, v) => (v == null ? "–" : unit === "ratio" ? `${(v * 100).toFixed(2)}%` : v.toLocaleString("en"));
  // Tick labels need only as many decimals as the step between ticks (0.5% steps: one decimal).
  const tick = (unit, v, step) => {
    const scale = unit === "ratio" ? 100 : 1;
    const decimals = Math.max(0, Math.min(4, -Math.floor(Math.log10(step * scale) + 1e-9)));
    const text = (v * scale).toFixed(Number.isInteger(step * scale) ? 0 : decimals);
    return unit === "ratio" ? `${text}%` : Number(text).toLocaleString("en");
  };
  const charts = [];

  function draw(figure) {
    const spec = JSON.parse(figure.querySelector('script[type="application/json"]').textContent);
    const target = figure.querySelector(".plot");
    const data = [spec.x];
    const series = [{ label: "day" }];
    const bands = [];
    spec.series.forEach((s, i) => {
      const color = spec.colors[i];
      series.push({ label: s.label, stroke: color, width: 2, value: (_, v) => show(spec.unit, v), points: { show: true, size: 5 } });
      data.push(s.values);
      if (s.low && s.high) {
        // The 95% interval as a shaded band between two dashed edges.
        const high = data.push(s.high) - 1;
        const low = data.push(s.low) - 1;
        for (const edge of ["high", "low"]) {
          series.push({
            label: `${s.label} 95% ${edge}`,
            band: true,
            stroke: `${color}99`,
            dash: [4, 4],
            width: 1,
            points: { show: false },
          });
        }
        bands.push({ series: [high, low], fill: `${color}33` });
      }
    });
    const yAxis = {
      values: (_, splits, _i, _space, step) => splits.map((v) => tick(spec.unit, v, step)),
      // As wide as the widest label in the axis font, so that "100%" is never cut to "00%".
      size: (u, values, axisIdx) => {
        if (!values) return 50;
        u.ctx.font = u.axes[axisIdx].font[0];
        const widest = Math.max(...values.map((v) => u.ctx.measureText(v).width));
        return Math.ceil(widest / devicePixelRatio) + 20;
      },
    };
    // Counts and rates start at zero: an axis from 7% makes small differences look large.
    const scales = { y: { range: (_, _min, max) => [0, max > 0 ? max * 1.1 : 1] } };
    const opts = { width: target.clientWidth || 600, height: 260, series, bands, axes: [{}, yAxis], scales, legend: { live: true } };
    const plot = new uPlot(opts, data, target);
    // Band edges are series for uPlot, not for the reader: their legend rows go (the table below has them).
    const rows = plot.root.querySelectorAll(".u-legend .u-series");
    series.forEach((s, i) => {
      if (s.band) rows[i]?.classList.add("band-edge");
    });
    charts.push({ plot, target });
    figure.uplot = plot;
    figure.dataset.drawn = "true";
  }

  for (const figure of document.querySelectorAll('figure[data-chart][data-kind="time"]')) {
    if (!figure.querySelector('script[type="application/json"]')) continue;
    try {
      draw(figure);
    } catch (err) {
      figure.querySelector(".plot").textContent = "This chart could not be drawn; its data table is below.";
      console.error(err);
    }
  }
  // Moments arrive in UTC; the reader sees them in their own locale and time zone.
  const local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  for (const time of document.querySelectorAll("time[datetime]")) time.textContent = local.format(new Date(time.dateTime));

  let pending;
  addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      for (const c of charts) c.plot.setSize({ width: c.target.clientWidth || 600, height: 260 });
    }, 150);
  });
})();
