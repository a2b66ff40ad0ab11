// The rating page: one pair at a time, both videos in sync, a click records the choice.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const left = $("left"), right = $("right");
  const buttons = [$("choose-left"), $("choose-right")];
  let current = null;     // the pair on screen: {id, left, right}
  let shownAt = null;     // performance.now() when both videos started playing
  let sending = false;
  let generation = 0;     // ignores 'canplay' of a pair that is no longer on screen

  function show(section) {
    for (const id of ["intro", "rate", "done"]) $(id).hidden = id !== section;
  }

  function setError(message) {
    $("error").hidden = !message;
    $("error").textContent = message || "";
  }

  function setButtons(enabled) {
    for (const b of buttons) b.disabled = !enabled;
  }

  async function call(method, url, body) {
    const options = {method, headers: {}, credentials: "same-origin"};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = {error: response.statusText}; }
    return {status: response.status, data};
  }

  function render(state) {
    document.title = state.title;
    $("title").textContent = state.title;
    $("question").textContent = state.question;
    $("intro-question").textContent = state.question;
    $("intro-total").textContent = state.total;
    document.body.dataset.state = !state.started ? "intro" : state.done ? "done" : "rating";
    if (!state.started) { $("progress-wrap").hidden = true; show("intro"); return; }
    $("progress-wrap").hidden = false;
    $("bar").max = state.total;
    $("bar").value = state.position;
    if (state.done) {
      $("progress").textContent = `Done: ${state.total} of ${state.total}`;
      $("code").textContent = state.code;
      left.removeAttribute("src"); right.removeAttribute("src");
      current = null;
      show("done");
      return;
    }
    $("progress").textContent = `Pair ${state.position + 1} of ${state.total}`;
    show("rate");
    if (!current || current.id !== state.item.id) load(state.item);
    document.body.dataset.item = state.item.id;
    document.body.dataset.position = state.position;
  }

  function load(item) {
    current = item;
    shownAt = null;
    setButtons(false);
    let ready = 0;
    const mine = ++generation;
    const onReady = () => {
      if (mine !== generation || ++ready < 2) return;
      left.currentTime = 0; right.currentTime = 0;
      Promise.all([left.play(), right.play()]).catch(() => {}).finally(() => {
        if (mine !== generation) return;
        shownAt = performance.now();
        setButtons(true);
      });
    };
    for (const v of [left, right]) {
      v.pause();
      v.addEventListener("canplay", onReady, {once: true});
    }
    left.src = item.left;
    right.src = item.right;
  }

  // Keep the right video on the left one's clock (they loop at slightly different moments otherwise).
  function sync() {
    if (current && !left.paused && !right.paused && left.readyState >= 2 && right.readyState >= 2) {
      const drift = right.currentTime - left.currentTime;
      if (Math.abs(drift) > 0.08) right.currentTime = left.currentTime;
    }
    requestAnimationFrame(sync);
  }

  async function vote(choice) {
    if (!current || sending || buttons[0].disabled) return;
    sending = true;
    setButtons(false);
    const elapsed = shownAt === null ? null : Math.max(0, Math.round(performance.now() - shownAt));
    try {
      const {status, data} = await call("POST", "/api/vote", {item: current.id, choice, elapsed_ms: elapsed});
      if (status === 200) { setError(""); render(data); }
      else if (status === 409 || status === 404) { await refresh(); }  // voted already (a retry): go on
      else { setError(data.error || `error ${status}`); setButtons(true); }
    } catch (e) {
      setError("Could not reach the server; your choice was not recorded. Try again.");
      setButtons(true);
    } finally {
      sending = false;
    }
  }

  async function refresh() {
    const {status, data} = await call("GET", "/api/state");
    if (status === 200) render(data); else setError(data.error || `error ${status}`);
  }

  $("start").addEventListener("click", async () => {
    const label = new URLSearchParams(location.search).get("worker");
    const {status, data} = await call("POST", "/api/start", label ? {label} : {});
    if (status === 200) { setError(""); render(data); } else setError(data.error || `error ${status}`);
  });
  buttons[0].addEventListener("click", () => vote("left"));
  buttons[1].addEventListener("click", () => vote("right"));
  document.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") vote("left");
    else if (e.key === "ArrowRight") vote("right");
  });
  requestAnimationFrame(sync);
  refresh().catch(() => setError("Could not reach the server."));
})();
