// Keyboard review on the queue page: j/k move, a accept, r reject with a reason, u undo, o open.
// Moves are POSTed with the page's CSRF token; answers only ever reach the page as textContent.
(function () {
  "use strict";
  const table = document.getElementById("queue");
  if (!table) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const rows = Array.from(table.querySelectorAll("tbody tr[data-item]"));
  const flash = document.getElementById("flash");
  const reasonForm = document.getElementById("reason");
  const reasonNote = document.getElementById("reason-note");
  const done = [];  // rows decided here, newest last, for u
  let current = 0;

  function say(text) { flash.textContent = text; }

  function select(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("current", i === current));
    rows[current].scrollIntoView({block: "nearest"});
  }

  async function post(url, fields) {
    const body = new URLSearchParams(Object.assign({csrf: csrf}, fields));
    const response = await fetch(url, {method: "POST", body: body, headers: {"Accept": "application/json"},
                                       credentials: "same-origin"});
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = {error: "HTTP " + response.status}; }
    if (!response.ok) throw new Error(answer.error || "HTTP " + response.status);
    return answer;
  }

  function show(row, status) {
    row.querySelector("td.status").textContent = status;
    row.dataset.status = status;
  }

  // Moves run one after another in key order; the selection moves on at once, so keys are never lost.
  let chain = Promise.resolve();
  function later(task) { chain = chain.then(task); }

  function decide(decision, note) {
    const row = rows[current];
    if (!row) return;
    select(current + 1);
    later(async function () {
      try {
        const answer = await post("/items/" + row.dataset.item + "/review", {decision: decision, note: note || ""});
        show(row, answer.status);
        done.push(row);
        say("#" + row.dataset.item + " → " + answer.status);
      } catch (error) {
        say("#" + row.dataset.item + ": " + error.message);
      }
    });
  }

  function undo() {
    later(async function () {
      const row = done.pop();
      if (!row) { say("nothing to undo on this page"); return; }
      try {
        const answer = await post("/items/" + row.dataset.item + "/undo", {});
        show(row, answer.status);
        say("#" + row.dataset.item + " back to " + answer.status);
        select(rows.indexOf(row));
      } catch (error) {
        say("#" + row.dataset.item + ": " + error.message);
      }
    });
  }

  function askReason() {
    const row = rows[current];
    if (!row) return;
    document.getElementById("reason-item").textContent = "#" + row.dataset.item;
    reasonNote.value = "";
    reasonForm.hidden = false;
    reasonNote.focus();
  }

  reasonForm.addEventListener("submit", function (event) {
    event.preventDefault();
    reasonForm.hidden = true;
    reasonNote.blur();
    decide("rejected", reasonNote.value);
  });
  reasonNote.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { reasonForm.hidden = true; reasonNote.blur(); }
  });

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const actions = {
      j: () => select(current + 1),
      k: () => select(current - 1),
      a: () => decide("accepted"),
      r: askReason,
      u: undo,
      o: () => { if (rows[current]) window.location.href = "/items/" + rows[current].dataset.item; },
    };
    if (actions[event.key]) { event.preventDefault(); actions[event.key](); }
  });

  rows.forEach((row, i) => row.addEventListener("click", () => select(i)));
  select(0);
})();
