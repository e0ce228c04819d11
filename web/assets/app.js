// Small niceties only; every page works without script.
// Focus the first problem message, so that a screen reader and the keyboard start there.
document.addEventListener("DOMContentLoaded", function () {
  var problem = document.getElementById("problem");
  if (problem) { problem.setAttribute("tabindex", "-1"); problem.focus(); }
  if (document.getElementById("timeline")) {
    var s = document.createElement("script");
    s.src = "/assets/timeline.js";
    document.head.appendChild(s);
  }
});
