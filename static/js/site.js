// Progressive enhancement only: every page reads and works without this file.
(function () {
  "use strict";

  var darkScheme = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  // Mermaid is loaded only on pages that have diagrams; their source stays readable until it renders.
  function renderDiagrams(root) {
    if (!window.mermaid) return;
    var nodes = (root || document).querySelectorAll("pre.mermaid:not([data-processed])");
    if (!nodes.length) return;
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: darkScheme && darkScheme.matches ? "dark" : "default",
    });
    window.mermaid.run({ nodes: nodes }).catch(function (error) {
      console.warn("diagram not rendered, its source stays visible", error);
    });
  }

  function addCopyButtons(root) {
    if (!navigator.clipboard) return;
    (root || document).querySelectorAll(".code-block:not([data-copy])").forEach(function (block) {
      var code = block.querySelector("pre");
      if (!code) return;
      block.setAttribute("data-copy", "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy code to the clipboard");
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(code.innerText).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 1500);
        });
      });
      block.appendChild(button);
    });
  }

  // Marks the table-of-contents entry of the section being read.
  function followSections() {
    var links = document.querySelectorAll(".toc a[href^='#']");
    if (!links.length || !("IntersectionObserver" in window)) return;
    var byId = {};
    links.forEach(function (link) { byId[decodeURIComponent(link.hash.slice(1))] = link; });
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        links.forEach(function (link) { link.removeAttribute("aria-current"); });
        var link = byId[entry.target.id];
        if (link) link.setAttribute("aria-current", "true");
      });
    }, { rootMargin: "0px 0px -70% 0px" });
    Object.keys(byId).forEach(function (id) {
      var heading = document.getElementById(id);
      if (heading) observer.observe(heading);
    });
  }

  function enhance(root) {
    renderDiagrams(root);
    addCopyButtons(root);
  }

  // Behaviour that used to be inline handlers, which the Content-Security-Policy forbids.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-select-on-focus")) event.target.select();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-from]");
    var source = button && document.getElementById(button.getAttribute("data-copy-from"));
    if (source && navigator.clipboard) navigator.clipboard.writeText(source.value);
  });

  enhance(document);
  followSections();
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();
