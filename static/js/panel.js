// The sandbox panel's progressive enhancements: line numbers and Tab in the editors, jump to a schema
// problem, terminal history, and failures shown in the panel instead of being dropped by htmx.
(function () {
  "use strict";
  if (window.migrationLabPanel) return;  // the script tag comes back when the panel is swapped
  window.migrationLabPanel = true;

  function enhanceEditor(textarea) {
    if (textarea.dataset.enhanced) return;
    textarea.dataset.enhanced = "1";
    var wrapper = textarea.closest(".editor");
    var gutter = null;
    if (wrapper) {
      gutter = document.createElement("div");
      gutter.className = "gutter";
      gutter.setAttribute("aria-hidden", "true");
      wrapper.insertBefore(gutter, textarea);
    }
    var problems = wrapper ? (wrapper.dataset.problemLines || "").split(",").filter(Boolean) : [];
    function renumber() {
      if (!gutter) return;
      var count = textarea.value.split("\n").length;
      var html = "";
      for (var i = 1; i <= count; i++) {
        html += problems.indexOf(String(i)) >= 0 ? '<span class="bad">' + i + "</span>\n" : i + "\n";
      }
      gutter.innerHTML = html;
      gutter.scrollTop = textarea.scrollTop;
    }
    textarea.addEventListener("input", renumber);
    textarea.addEventListener("scroll", function () { if (gutter) gutter.scrollTop = textarea.scrollTop; });
    textarea.addEventListener("keydown", function (event) {
      // Tab indents; Escape then Tab leaves the editor, so the keyboard is never trapped.
      if (event.key === "Escape") { textarea.dataset.tabExits = "1"; return; }
      if (event.key === "Tab" && !event.shiftKey && !textarea.dataset.tabExits) {
        event.preventDefault();
        var start = textarea.selectionStart, end = textarea.selectionEnd;
        textarea.setRangeText("  ", start, end, "end");
        renumber();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && textarea.form) {
        event.preventDefault();
        textarea.form.requestSubmit();
      }
      if (event.key !== "Tab") delete textarea.dataset.tabExits;
    });
    textarea.addEventListener("blur", function () { delete textarea.dataset.tabExits; });
    renumber();
  }

  function goToLine(textarea, line, column) {
    var lines = textarea.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    textarea.focus();
    textarea.setSelectionRange(offset, offset);
    var lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 18;
    textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
  }

  // The terminal's command history, kept per sandbox in this browser (up to 100 commands).
  function historyKey() {
    var panel = document.getElementById("sandbox");
    return "migration-lab:terminal:" + (panel ? panel.dataset.context : "");
  }
  function loadHistory() {
    try { return JSON.parse(window.localStorage.getItem(historyKey()) || "[]"); } catch (error) { return []; }
  }
  function saveHistory() {
    try { window.localStorage.setItem(historyKey(), JSON.stringify(history.slice(-100))); } catch (error) { /* private mode */ }
  }
  var history = loadHistory();
  var historyIndex = history.length;

  function followTerminal() {
    var output = document.getElementById("terminal-output");
    if (output) output.scrollTop = output.scrollHeight;
  }

  function enhance(root) {
    root.querySelectorAll("textarea.code-input").forEach(enhanceEditor);
    var output = root.querySelector ? root.querySelector("#terminal-output") : null;
    if (output) output.scrollTop = output.scrollHeight;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".problem-at") : null;
    if (!link) return;
    var editor = document.getElementById("schema-editor");
    if (!editor) return;
    event.preventDefault();
    goToLine(editor, parseInt(link.dataset.line, 10), parseInt(link.dataset.column, 10));
  });

  document.addEventListener("keydown", function (event) {
    if (!event.target || event.target.id !== "terminal-command") return;
    var input = event.target;
    if (event.key === "ArrowUp" && historyIndex > 0) {
      historyIndex -= 1; input.value = history[historyIndex]; event.preventDefault();
    } else if (event.key === "ArrowDown" && historyIndex < history.length) {
      historyIndex += 1; input.value = history[historyIndex] || ""; event.preventDefault();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target;
    if (form && form.id === "terminal-form") {
      var input = form.querySelector("#terminal-command");
      if (input && input.value.trim()) {
        if (history[history.length - 1] !== input.value) history.push(input.value);
        historyIndex = history.length;
        saveHistory();
      }
    }
    var alert = document.getElementById("panel-alert");
    if (alert) alert.textContent = "";
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (form && form.id === "terminal-form" && event.detail.successful) {
      var input = form.querySelector("#terminal-command");
      if (input) { input.value = ""; input.focus(); }
    }
  });

  // A failure of the app (4xx/5xx) is shown in the panel's alert, and the part the action aimed at is
  // kept: swapping the error card in its place would leave later actions without their target.
  function showFailure(text) {
    var alert = document.getElementById("panel-alert");
    if (alert) alert.textContent = text;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var target = event.detail.target;
    if (xhr.status >= 400 && target && target.closest && target.closest("#sandbox")) {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var text = (doc.body && doc.body.textContent || "").replace(/\s+/g, " ").trim();
    showFailure(text ? text.slice(0, 400) : "The server answered " + xhr.status + ". Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showFailure("The server could not be reached. Check your connection and try again.");
  });

  // New output is appended below the old: keep the newest command in view.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && (target.id === "terminal-output" || target.id === "sandbox")) followTerminal();
  });

  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
