// The console's report pieces, shared by the results pages: a report's table as an accessible
// HTML table, a line or bar chart of some of its columns (uPlot, vendored in static/vendor/ and
// loaded before this module as the global `uPlot`), and the link that downloads a table as CSV.
// A report's table is {columns: [name, …], rows: [[value, …], …]}; the first column is what the
// rows are about (a day, an hour, a page…). Every text goes in with textContent, never as HTML.
// Words come from the page (data-texts, server/console/texts.py): "c_<column>" names a column.

export const lang = document.documentElement.lang === "ja" ? "ja" : "en";

const COLORS = ["#b4432f", "#2563eb", "#1a7f37", "#9a6700", "#6e40c9", "#5b636e"];
const WEEKDAYS = { ja: ["月", "火", "水", "木", "金", "土", "日"], en: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] };
const ENGLISH_DAYS = WEEKDAYS.en;
const SHORT_LABELS = ["day", "hour", "weekday", "device"]; // row labels kept on one line
const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
const signed = new Intl.NumberFormat(lang, { maximumFractionDigits: 1, signDisplay: "exceptZero" });
const shortDay = new Intl.DateTimeFormat(lang, { month: "numeric", day: "numeric", timeZone: "UTC" });

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

export function columnLabel(words, column) {
  return words["c_" + column] || column;
}

export function formatNumber(value) {
  return typeof value === "number" && Number.isFinite(value) ? number.format(value) : "—";
}

/** A share (0.123) as a percentage: "12.3%"; "—" when missing. */
export function percent(share, digits = 1) {
  if (typeof share !== "number" || !Number.isFinite(share)) return "—";
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: digits }).format(share);
}

/** A difference, with its sign: "+1.6", "−0.3". */
export function signedNumber(value) {
  return typeof value === "number" && Number.isFinite(value) ? signed.format(value) : "—";
}

/** A cell as people read it: hours as 14:00, weekdays in the page's language, seconds as 1:05. */
export function formatCell(column, value) {
  if (value === null || value === undefined) return "—";
  if (column === "hour" && Number.isInteger(Number(value))) return Number(value) + ":00";
  if (column === "weekday") {
    const index = typeof value === "number" ? value : ENGLISH_DAYS.indexOf(String(value).slice(0, 3));
    return index >= 0 && index < 7 ? WEEKDAYS[lang][index] : String(value);
  }
  if (column.startsWith("median_seconds") && typeof value === "number") {
    const seconds = Math.round(value);
    return Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }
  return typeof value === "number" ? formatNumber(value) : String(value);
}

/** The table as a <table>: a caption, one header cell per column, the first cell of a row as its header. */
export function renderTable(table, words, caption) {
  const node = el("table", "data");
  if (caption) node.appendChild(el("caption", "visually-hidden", caption));
  const head = el("thead");
  const top = el("tr");
  table.columns.forEach((column, index) => {
    const th = el("th", index > 0 && numeric(table, index) ? "num" : "", columnLabel(words, column));
    th.scope = "col";
    top.appendChild(th);
  });
  head.appendChild(top);
  node.appendChild(head);
  const body = el("tbody");
  // A missing value ("—") in a column of numbers sits where its numbers do.
  const numbers = table.columns.map((_, index) => index > 0 && numeric(table, index));
  for (const row of table.rows) {
    const tr = el("tr");
    row.forEach((value, index) => {
      const column = table.columns[index] || "";
      // The first cell names the row (a day, an hour, a page): read as a label, never as a number.
      const number = typeof value === "number" || ((value === null || value === undefined) && numbers[index]);
      const kind = index > 0 ? (number ? "num" : "") : SHORT_LABELS.includes(column) ? "label" : "";
      const cell = el(index === 0 ? "th" : "td", kind, formatCell(column, value));
      if (index === 0) cell.scope = "row";
      tr.appendChild(cell);
    });
    body.appendChild(tr);
  }
  node.appendChild(body);
  return node;
}

function numeric(table, index) {
  return table.rows.some((row) => typeof row[index] === "number");
}

/** The URL that downloads one table of the report at `api` as CSV (the server sends it as a file). */
export function csvHref(api, query, name) {
  const params = new URLSearchParams(query);
  params.set("format", "csv");
  params.set("table", name);
  return api + "?" + params.toString();
}

// Bars of several series nest: each later one narrower, inside the one before.
const barShare = (index) => Math.max(0.75 - 0.3 * index, 0.2);

function xLabels(table) {
  const column = table.columns[0];
  return table.rows.map((row) => {
    const value = row[0];
    if (column === "day" && /^\d{4}-\d{2}-\d{2}$/.test(String(value))) return shortDay.format(new Date(value + "T00:00:00Z"));
    return formatCell(column, value);
  });
}

const COUNT_STEPS = [];
for (let power = 1; power <= 1e9; power *= 10) COUNT_STEPS.push(power, 2 * power, 5 * power);

/**
 * A chart of `series` (column names; default every numeric column after the first) against the
 * first column, drawn into `container`: "line" or "bars" (bars of several series nest, the
 * later ones narrower, e.g. converted inside decided). Axes are labelled; the legend names each
 * series and shows its value under the cursor. Returns the uPlot instance.
 */
export function drawChart(container, table, kind, series, words, title) {
  const wanted = (series && series.length ? series : table.columns.slice(1)).filter(
    (name) => table.columns.includes(name) && numeric(table, table.columns.indexOf(name)),
  );
  const labels = xLabels(table);
  const count = table.rows.length;
  const x = labels.map((_, index) => index);
  const data = [x, ...wanted.map((name) => table.rows.map((row) => (typeof row[table.columns.indexOf(name)] === "number" ? row[table.columns.indexOf(name)] : null)))];
  const bars = kind === "bars";
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", fill(words.chart_of || "{title}", { title: title || "" }));
  const options = {
    width: Math.max(container.clientWidth, 280),
    height: 240,
    cursor: { drag: { x: false, y: false }, points: { show: !bars } },
    // The legend names the series; the numbers are in the table (a live legend would repeat them).
    legend: { live: false },
    scales: {
      x: { time: false, range: () => (bars ? [-0.5, count - 0.5] : [0, Math.max(count - 1, 1)]) },
      y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      {
        label: columnLabel(words, table.columns[0]),
        incrs: [1, 2, 3, 4, 6, 7, 12, 14, 30, 60, 90, 180, 365],
        space: 40,
        grid: { show: false },
        values: (u, splits) => splits.map((index) => (Number.isInteger(index) && labels[index] !== undefined ? labels[index] : "")),
      },
      {
        label: words.count || "",
        incrs: COUNT_STEPS,
        size: 60,
        values: (u, splits) => splits.map((value) => formatNumber(value)),
      },
    ],
    series: [
      { label: columnLabel(words, table.columns[0]), value: (u, index) => (index === null || labels[index] === undefined ? "" : labels[index]) },
      ...wanted.map((name, index) => ({
        label: columnLabel(words, name),
        stroke: COLORS[index % COLORS.length],
        width: bars ? 1 : 2,
        fill: bars ? COLORS[index % COLORS.length] + (index === 0 ? "99" : "dd") : undefined,
        paths: bars ? uPlot.paths.bars({ size: [barShare(index), 80 * barShare(index)] }) : undefined,
        points: { show: !bars && count <= 31 },
        value: (u, value) => formatNumber(value),
      })),
    ],
  };
  const chart = new uPlot(options, data, container);
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => {
      const width = Math.max(container.clientWidth, 280);
      if (width !== chart.width) chart.setSize({ width, height: 240 });
    }).observe(container);
  }
  return chart;
}
