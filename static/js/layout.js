// The layout of pages with a sandbox: Lesson | Sandbox switch (narrow screens), a split handle between the
// lesson and the sandbox (drag, or arrow keys when focused), and Lab mode (the sandbox takes the width).
// Each choice is remembered in this browser. Without this file both parts simply stack.
(function () {
  "use strict";
  var layout = document.querySelector(".lesson-layout.with-sandbox");
  var controls = document.getElementById("lab-controls");
  if (!layout || !controls) return;

  function load(key, fallback) {
    try { var value = window.localStorage.getItem("migration-lab:" + key); return value === null ? fallback : value; }
    catch (error) { return fallback; }
  }
  function save(key, value) {
    try { window.localStorage.setItem("migration-lab:" + key, value); } catch (error) { /* private mode */ }
  }

  controls.hidden = false;

  // Lesson | Sandbox on narrow screens.
  var switches = controls.querySelectorAll(".view-switch-button");
  function show(part) {
    layout.classList.toggle("show-sandbox", part === "sandbox");
    layout.classList.toggle("show-lesson", part !== "sandbox");
    switches.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.show === part));
    });
  }
  switches.forEach(function (button) {
    button.addEventListener("click", function () {
      show(button.dataset.show);
      save("view", button.dataset.show);
      window.scrollTo(0, 0);
    });
  });
  show(load("view", "lesson"));

  // Lab mode on wide screens.
  var labButton = controls.querySelector(".lab-mode-button");
  function setLab(on) {
    document.body.classList.toggle("lab-mode", on);
    labButton.setAttribute("aria-pressed", String(on));
  }
  labButton.addEventListener("click", function () {
    var on = !document.body.classList.contains("lab-mode");
    setLab(on);
    save("lab-mode", on ? "1" : "0");
  });
  setLab(load("lab-mode", "0") === "1");

  // The split: the lesson's share of the width, in percent.
  var handle = layout.querySelector(".split-handle");
  if (!handle) return;
  handle.hidden = false;
  layout.classList.add("split");
  var MIN = 25, MAX = 75;
  function setSplit(percent) {
    percent = Math.max(MIN, Math.min(MAX, Math.round(percent)));
    layout.style.setProperty("--split", percent + "%");
    handle.setAttribute("aria-valuenow", String(percent));
    handle.setAttribute("aria-valuetext", "lesson " + percent + "%, sandbox " + (100 - percent) + "%");
    return percent;
  }
  var current = setSplit(parseFloat(load("split", "52")) || 52);
  handle.addEventListener("keydown", function (event) {
    var step = event.shiftKey ? 10 : 2;
    var next = { ArrowLeft: current - step, ArrowRight: current + step, Home: MIN, End: MAX }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    current = setSplit(next);
    save("split", String(current));
  });
  handle.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    handle.classList.add("dragging");
  });
  handle.addEventListener("pointermove", function (event) {
    if (!handle.classList.contains("dragging")) return;
    var box = layout.getBoundingClientRect();
    var lesson = layout.querySelector(".lesson").getBoundingClientRect();  // the contents may sit left of it
    current = setSplit(((event.clientX - lesson.left) / box.width) * 100);
  });
  function stop() {
    if (!handle.classList.contains("dragging")) return;
    handle.classList.remove("dragging");
    save("split", String(current));
  }
  handle.addEventListener("pointerup", stop);
  handle.addEventListener("pointercancel", stop);
})();
