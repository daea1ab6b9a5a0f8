// A results page (a rule's results, the site overview): the report for the page's date range from
// the console's insights API (#insights data-api, data-from, data-to), then every
// <section data-table=NAME> filled from report.tables[NAME]: a chart when it says data-chart
// ("line" or "bars", of the columns in data-series), the table (unless data-chart-only) and its
// CSV download. A rule's report also has totals and the uplift block. Text only (textContent).
import { csvHref, drawChart, el, fill, formatNumber, percent, renderTable, signedNumber } from "./insights.js";

const root = document.getElementById("insights");
const words = JSON.parse(root.dataset.texts);
const query = { from: root.dataset.from, to: root.dataset.to };
const status = document.getElementById("insights-status");
const LONG = 12; // rows; a longer table under a chart starts folded

async function load() {
  status.textContent = words.loading;
  let response, body;
  try {
    response = await fetch(root.dataset.api + "?" + new URLSearchParams(query), { headers: { accept: "application/json" } });
    body = await response.json();
  } catch (error) {
    status.textContent = fill(words.failed, { error: String(error.message || error) });
    return;
  }
  if (!response.ok) {
    status.textContent = fill(words.failed, { error: (body && body.error) || response.status });
    return;
  }
  status.textContent = "";
  if (body.totals) showTotals(body.totals);
  if (body.uplift) showUplift(body.uplift);
  for (const section of root.querySelectorAll("section[data-table]")) showTable(section, body.tables || {});
}

function showTable(section, tables) {
  const name = section.dataset.table;
  const table = tables[name];
  if (!table || !Array.isArray(table.columns) || !Array.isArray(table.rows)) return;
  section.hidden = false;
  const title = section.querySelector("h2").textContent;
  if (!table.rows.length) {
    section.appendChild(el("p", "muted empty-table", words.empty));
    return;
  }
  if (section.dataset.chart) {
    const chart = el("div", "chart");
    section.appendChild(chart);
    const series = (section.dataset.series || "").split(",").filter(Boolean);
    drawChart(chart, table, section.dataset.chart, series, words, title);
  }
  if (section.hasAttribute("data-chart-only")) return;
  const wrap = el("div", "table-wrap");
  wrap.appendChild(renderTable(table, words, title));
  if (section.dataset.chart && table.rows.length > LONG && !section.hasAttribute("data-table-open")) {
    // Under a chart, a long table folds away: the chart is read at a glance, the numbers on demand.
    const details = el("details", "table-details");
    details.appendChild(el("summary", "", fill(words.show_table, { rows: table.rows.length })));
    details.appendChild(wrap);
    section.appendChild(details);
  } else {
    section.appendChild(wrap);
  }
  const link = el("a", "csv", words.csv);
  link.href = csvHref(root.dataset.api, query, name);
  link.setAttribute("download", "");
  link.dataset.csv = name;
  section.appendChild(link);
}

function showTotals(totals) {
  // The page names the totals it shows, in order (data-totals); a "…_per_…" one is a share.
  const list = document.getElementById("totals-list");
  if (!list) return;
  for (const name of list.dataset.totals.split(",")) {
    if (!(name in totals)) continue;
    const item = el("div", "total");
    item.dataset.counter = name;
    item.appendChild(el("dt", "", words["c_" + name] || name));
    item.appendChild(el("dd", "", name.includes("_per_") ? percent(totals[name], 1) : formatNumber(totals[name])));
    list.appendChild(item);
  }
  document.getElementById("totals").hidden = false;
}

function interval(result, format) {
  return fill(words.interval, { low: format(result.low), high: format(result.high) });
}

const points = (share) => signedNumber(share * 100) + words.points;
const relative = (share) => (share > 0 ? "+" : "") + percent(share, 0);

function showUplift(uplift) {
  const body = document.getElementById("uplift-body");
  if (!body) return;
  document.getElementById("uplift").hidden = false;
  const facts = el("p", "uplift-facts");
  facts.appendChild(el("span", "", uplift.goal ? fill(words.goal, { goal: uplift.goal }) : fill(words.goal, { goal: "—" })));
  facts.appendChild(el("span", "", fill(words.holdout, { share: percent(uplift.holdout || 0, 1) })));
  body.appendChild(facts);
  if (!uplift.goal) {
    body.appendChild(el("p", "notice", words.no_goal));
  } else if (!uplift.holdout) {
    body.appendChild(el("p", "notice", words.no_holdout));
  }
  const ratio = uplift.sample_ratio;
  if (ratio && ratio.mismatch) {
    const warning = el("p", "warning", fill(words.srm, {
      observed: percent(ratio.observed, 1),
      expected: percent(ratio.expected, 1),
      p: typeof ratio.p === "number" ? ratio.p.toPrecision(2) : "—",
    }));
    warning.id = "sample-ratio-warning";
    warning.setAttribute("role", "alert");
    body.appendChild(warning);
  }
  body.appendChild(groups(uplift));
  if (!uplift.enough_data) {
    // Without a goal, or without a control group, no amount of data gives an uplift: the notice
    // above says what to add, and "wait for more data" would send the marketer the wrong way.
    const noControl = !uplift.holdout && !(uplift.control && uplift.control.decisions);
    if (uplift.goal && !noControl) {
      const note = el("p", "notice", words.not_enough);
      note.id = "not-enough-data";
      body.appendChild(note);
    }
    return;
  }
  const list = el("dl", "uplift-results");
  const rows = [
    [words.absolute, uplift.absolute, points],
    [words.relative, uplift.relative, relative],
    [words.value, uplift.value, signedNumber],
  ];
  for (const [label, result, format] of rows) {
    if (!result) continue;
    const item = el("div", "uplift-result");
    item.appendChild(el("dt", "", label));
    const value = el("dd");
    value.appendChild(el("strong", "", format(result.estimate)));
    value.appendChild(el("span", "interval", interval(result, format)));
    item.appendChild(value);
    list.appendChild(item);
  }
  list.id = "uplift-results";
  body.appendChild(list);
}

function groups(uplift) {
  const table = el("table", "data groups");
  table.appendChild(el("caption", "visually-hidden", words.uplift));
  const head = el("tr");
  for (const text of [words.measure, words.treatment, words.control]) {
    const th = el("th", text === words.measure ? "" : "num", text);
    th.scope = "col";
    head.appendChild(th);
  }
  const thead = el("thead");
  thead.appendChild(head);
  table.appendChild(thead);
  const tbody = el("tbody");
  const measures = [
    [words.decisions, "decisions", formatNumber],
    [words.converted, "converted", formatNumber],
    [words.rate, "rate", (share) => percent(share, 2)],
    [words.value_mean, "value_mean", formatNumber],
  ];
  for (const [label, key, format] of measures) {
    const tr = el("tr");
    const th = el("th", "", label);
    th.scope = "row";
    tr.appendChild(th);
    for (const group of [uplift.treatment || {}, uplift.control || {}]) tr.appendChild(el("td", "num", format(group[key])));
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  return table;
}

load();
