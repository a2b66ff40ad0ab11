// The admin page: Table II from the live votes, refreshed every 5 seconds.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const f2 = (x) => x === null ? "-" : x.toFixed(2);
  const ci = (x) => x === null ? "-" : `[${f2(x[0])}, ${f2(x[1])}]`;
  const p = (x) => x === null ? "-" : x < 0.001 ? "< 0.001" : x.toFixed(3);

  function cell(row, text, numeric) {
    const td = document.createElement("td");
    td.textContent = text;
    if (numeric) td.className = "num";
    row.appendChild(td);
  }

  async function update() {
    try {
      const response = await fetch("/admin/results.json", {credentials: "same-origin"});
      const data = await response.json();
      if (response.status !== 200) throw new Error(data.error || response.statusText);
      $("title").textContent = `${data.study.title}: results`;
      const body = $("results").querySelector("tbody");
      body.replaceChildren();
      for (const r of data.rows) {
        const tr = document.createElement("tr");
        cell(tr, r.comparison);
        cell(tr, r.ratio_a === null ? "-" : `${f2(r.ratio_a)} vs ${f2(r.ratio_b)}`);
        cell(tr, ci(r.wilson95)); cell(tr, ci(r.bootstrap95));
        cell(tr, r.votes, true); cell(tr, r.raters, true);
        cell(tr, p(r.p_binomial), true); cell(tr, p(r.p_holm), true);
        body.appendChild(tr);
      }
      const a = data.raters, v = data.votes;
      $("summary").textContent = `${a.started} raters started, ${a.completed} finished; ${a.counted} counted ` +
        `(${v.counted} votes), ${a.excluded_failed_checks} excluded for failed attention checks ` +
        `(${v.excluded_from_failed_raters} votes). Left-side share ${f2(v.left_share)}.`;
      $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
      $("error").hidden = true;
    } catch (e) {
      $("error").hidden = false;
      $("error").textContent = `Could not load the results: ${e.message}`;
    }
  }
  update();
  setInterval(update, 5000);
})();
