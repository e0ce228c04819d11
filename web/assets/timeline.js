// The training export's timeline: drag across the bar (or use the arrow keys and Enter) to add
// a range to mute. The ranges live in the text field; the bar only draws and edits them.
(function () {
  var box = document.getElementById("timeline");
  var track = document.getElementById("track");
  var field = document.getElementById("mutes");
  var total = parseFloat(box.dataset.seconds);
  if (!box || !track || !field || !(total > 0)) { return; }
  box.hidden = false;

  function round(x) { return Math.round(x * 100) / 100; }
  function at(ev) {
    var r = track.getBoundingClientRect();
    return Math.min(total, Math.max(0, (ev.clientX - r.left) / r.width * total));
  }
  function ranges() {
    return field.value.split(/[\s,;]+/).filter(Boolean).map(function (m) {
      var parts = m.replace(/^(caller|agent):/, "").split("-");
      return [parseFloat(parts[0]), parseFloat(parts[1])];
    }).filter(function (r) { return r[1] > r[0]; });
  }
  function add(a, b) {
    if (b < a) { var t = a; a = b; b = t; }
    if (b - a < 0.05) { return; }
    field.value = (field.value.trim() ? field.value.trim() + "\n" : "") + round(a) + "-" + round(b);
    draw();
  }
  function draw() {
    track.querySelectorAll(".mute").forEach(function (e) { e.remove(); });
    ranges().forEach(function (r) {
      var d = document.createElement("div");
      d.className = "mute";
      d.style.left = (r[0] / total * 100) + "%";
      d.style.width = ((Math.min(r[1], total) - r[0]) / total * 100) + "%";
      track.appendChild(d);
    });
  }
  var start = null, live = null;
  track.addEventListener("pointerdown", function (ev) {
    start = at(ev);
    track.setPointerCapture(ev.pointerId);
    live = document.createElement("div");
    live.className = "mute";
    track.appendChild(live);
  });
  track.addEventListener("pointermove", function (ev) {
    if (start === null) { return; }
    var x = at(ev), a = Math.min(start, x), b = Math.max(start, x);
    live.style.left = (a / total * 100) + "%";
    live.style.width = ((b - a) / total * 100) + "%";
  });
  track.addEventListener("pointerup", function (ev) {
    if (start === null) { return; }
    var s = start;
    start = null;
    add(s, at(ev));
  });
  // Keyboard: arrows move a cursor (Shift: 1 s steps, else 0.1 s), Enter marks a range's start
  // and then its end.
  var cursor = document.createElement("div"), pos = 0, mark = null;
  cursor.className = "cursor";
  track.appendChild(cursor);
  function place() {
    cursor.style.left = (pos / total * 100) + "%";
    track.setAttribute("aria-valuenow", round(pos));
    track.setAttribute("aria-valuetext", round(pos) + " s" + (mark !== null ? " (" + round(mark) + " s –)" : ""));
  }
  track.addEventListener("keydown", function (ev) {
    var step = ev.shiftKey ? 1 : 0.1;
    if (ev.key === "ArrowRight") { pos = Math.min(total, pos + step); }
    else if (ev.key === "ArrowLeft") { pos = Math.max(0, pos - step); }
    else if (ev.key === "Enter") {
      if (mark === null) { mark = pos; } else { add(mark, pos); mark = null; }
    } else { return; }
    ev.preventDefault();
    place();
  });
  field.addEventListener("input", draw);
  place();
  draw();
})();
