// Small niceties only; every page works without script.
// After a problem, the keyboard starts where it is fixed: the password field on the sign-in
// page, else the message itself (a screen reader reads it either way: role=alert).
document.addEventListener("DOMContentLoaded", function () {
  var problem = document.getElementById("problem");
  var password = document.getElementById("password");
  if (problem && password) { password.focus(); }
  else if (problem) { problem.setAttribute("tabindex", "-1"); problem.focus(); }
  if (document.getElementById("timeline")) {
    var s = document.createElement("script");
    s.src = "/assets/timeline.js";
    document.head.appendChild(s);
  }
});
