// The synack ladder viewer: steps through a diagram's rows, growing each
// packet's arrow as time passes and lighting both hosts' states. It loads
// nothing; everything it needs is in the viewer's element.
(function () {
  "use strict";
  var SPEED = 450; // milliseconds from one row to the next when playing

  function init(root) {
    if (root.synackViewer) return root.synackViewer;
    var data = JSON.parse(root.querySelector("script.synack-data").textContent);
    var rows = data.rows, n = rows.length;
    var svg = root.querySelector("svg.synack-ladder");
    var pane = root.querySelector(".ladder");
    var pkts = Array.prototype.slice.call(svg.querySelectorAll("g.pkt"));
    var rowEls = Array.prototype.slice.call(svg.querySelectorAll("[data-row]")).filter(function (el) {
      return !el.classList.contains("pkt") && !(el.parentNode && el.parentNode.classList && el.parentNode.classList.contains("pkt"));
    });
    var band = svg.querySelector("rect.now");
    var machines = Array.prototype.slice.call(root.querySelectorAll(".machine"));
    var playBtn = root.querySelector('button[data-act="play"]');
    var pos = -1, timer = null;
    // The plot beside the ladder, if any: its elements name packets by
    // their number (data-packet); sendRow is each packet's first row.
    var plotPane = root.querySelector(".plot");
    var plotEls = plotPane ? Array.prototype.slice.call(plotPane.querySelectorAll("[data-packet]")) : [];
    var sendRow = {};
    pkts.forEach(function (g) {
      var k = g.getAttribute("data-n");
      if (!(k in sendRow)) sendRow[k] = +g.getAttribute("data-row");
    });
    var selected = "";

    // highlight marks packet n (a string; "" for none) on the plot and
    // the ladder.
    function highlight(n) {
      if (n === selected) return;
      selected = n;
      plotEls.forEach(function (el) { el.classList.toggle("sel", n !== "" && el.getAttribute("data-packet") === n); });
      pkts.forEach(function (g) { g.classList.toggle("sel", n !== "" && g.getAttribute("data-n") === n); });
      root.setAttribute("data-selected", n);
    }

    // select goes to packet n's row: it is then highlighted.
    function select(n) {
      if (!(n in sendRow)) return false;
      go(sendRow[n]);
      return true;
    }

    // A click on the plot selects the packet of the point nearest to it
    // (within 12 px: the points are small).
    if (plotPane) {
      plotPane.addEventListener("click", function (ev) {
        var best = null, bestD = 12;
        plotEls.forEach(function (el) {
          var b = el.getBoundingClientRect();
          var dx = Math.max(b.left - ev.clientX, 0, ev.clientX - b.right);
          var dy = Math.max(b.top - ev.clientY, 0, ev.clientY - b.bottom);
          var d = Math.sqrt(dx * dx + dy * dy);
          if (d < bestD || (d === bestD && best === null)) { best = el; bestD = d; }
        });
        if (best) select(best.getAttribute("data-packet"));
      });
    }
    // And a click on an arrow of the ladder selects its packet.
    pkts.forEach(function (g) {
      g.addEventListener("click", function () { select(g.getAttribute("data-n")); });
    });

    function rowY(p) {
      if (p < 0) return data.top;
      var i = Math.floor(p), f = p - i;
      var a = rows[i].y, b = i + 1 < n ? rows[i + 1].y : a;
      return a + (b - a) * f;
    }

    function lightMachine(m, side, step) {
      var cur = step >= 0 ? rows[step].state[side] : data.initial[side];
      var visited = {}, seq = [data.initial[side]];
      for (var i = 0; i <= step; i++) {
        if (rows[i].state[side] !== seq[seq.length - 1]) seq.push(rows[i].state[side]);
      }
      // A connection that got past LISTEN ends in the lower CLOSED box.
      var opened = seq.some(function (s) { return s && s !== "CLOSED" && s !== "LISTEN"; });
      var boxes = Array.prototype.slice.call(m.querySelectorAll("g.box"));
      function boxOf(s, last) {
        var end = s === "CLOSED" && opened && last;
        for (var k = 0; k < boxes.length; k++) {
          if (boxes[k].getAttribute("data-state") === s && (boxes[k].getAttribute("data-end") === "true") === end) return boxes[k];
        }
        return null;
      }
      var path = seq.map(function (s, k) { return boxOf(s, k > 0); });
      boxes.forEach(function (b) { b.classList.remove("lit", "visited"); });
      path.forEach(function (b) { if (b) b.classList.add("visited"); });
      var lit = path[path.length - 1];
      if (lit && cur) lit.classList.add("lit");
      Array.prototype.forEach.call(m.querySelectorAll("g.edge"), function (e) {
        var taken = false;
        for (var k = 1; k < path.length; k++) {
          if (path[k - 1] && path[k] && e.getAttribute("data-from") === path[k - 1].getAttribute("data-i") &&
              e.getAttribute("data-to") === path[k].getAttribute("data-i")) taken = true;
        }
        e.classList.toggle("taken", taken);
      });
      m.querySelector(".cur-state").textContent = cur || "unknown";
      m.setAttribute("data-state", cur || "");
    }

    function render(p) {
      var step = Math.floor(p + 1e-9);
      var y = rowY(p);
      rowEls.forEach(function (el) {
        var r = +el.getAttribute("data-row");
        el.classList.toggle("hidden", r > step);
        el.classList.toggle("cur", r === step && r >= 0);
      });
      pkts.forEach(function (g) {
        var s = +g.getAttribute("data-row"), e = +g.getAttribute("data-end");
        var shaft = g.querySelector("line.shaft");
        var x1 = +g.getAttribute("data-x1"), y1 = +g.getAttribute("data-y1");
        var x2 = +g.getAttribute("data-x2"), y2 = +g.getAttribute("data-y2");
        if (s > step) { g.classList.add("hidden"); g.classList.remove("cur"); return; }
        g.classList.remove("hidden");
        var f = 1;
        if (e > step) f = y2 > y1 ? Math.max(0, Math.min(1, (y - y1) / (y2 - y1))) : 0;
        shaft.setAttribute("x2", x1 + (x2 - x1) * f);
        shaft.setAttribute("y2", y1 + (y2 - y1) * f);
        Array.prototype.forEach.call(g.querySelectorAll(".end"), function (el) { el.classList.toggle("hidden", e > step); });
        g.classList.toggle("cur", s === step || e === step);
        g.setAttribute("data-arrived", e <= step ? "true" : "false");
      });
      if (step >= 0) {
        band.setAttribute("y", rows[step].y - 13);
        band.setAttribute("visibility", "visible");
      } else {
        band.setAttribute("visibility", "hidden");
      }
      machines.forEach(function (m) { lightMachine(m, m.getAttribute("data-side") === "left" ? 0 : 1, step); });
      root.querySelector(".now-text .at").textContent = step >= 0 ? rows[step].at : "";
      // data.words, when there, has these sentences in the page's language.
      var words = data.words;
      root.querySelector(".now-text .what").textContent = step >= 0 ? rows[step].text : words ? words.before :
        "Before the first packet: " + data.hosts[0] + " is " + (data.initial[0] || "in an unknown state") +
        ", " + data.hosts[1] + " is " + (data.initial[1] || "in an unknown state") + ". Press → or play.";
      root.querySelector(".status").textContent = words ? words.row.replace("%d", String(step + 1)).replace("%d", String(n)) :
        "row " + (step + 1) + " of " + n;
      root.setAttribute("data-step", String(step));
      highlight(step >= 0 && rows[step].n ? String(rows[step].n) : "");
      // Keep the current row in view.
      var top = pane.scrollTop, h = pane.clientHeight;
      if (h > 0 && (y < top + 40 || y > top + h - 60)) pane.scrollTop = Math.max(0, y - h / 2);
    }

    function stop() {
      if (timer !== null) cancelAnimationFrame(timer);
      timer = null;
      playBtn.textContent = data.words ? data.words.play : "▶ play";
      root.setAttribute("data-playing", "false");
    }

    function go(p) { stop(); pos = Math.max(-1, Math.min(n - 1, p)); render(pos); }

    function play() {
      if (timer !== null) { stop(); return; }
      if (pos >= n - 1) pos = -1;
      playBtn.textContent = data.words ? data.words.pause : "❚❚ pause";
      root.setAttribute("data-playing", "true");
      var from = pos, t0 = null;
      function frame(t) {
        if (t0 === null) t0 = t;
        var p = from + (t - t0) / SPEED;
        if (p >= n - 1) {
          pos = n - 1; render(pos); stop();
          root.setAttribute("data-done", "true");
          return;
        }
        pos = p; render(pos);
        timer = requestAnimationFrame(frame);
      }
      timer = requestAnimationFrame(frame);
    }

    function act(a) {
      var step = Math.floor(pos + 1e-9);
      switch (a) {
        case "first": go(-1); break;
        case "prev": go(pos > step ? step : step - 1); break;
        case "next": go(step + 1); break;
        case "last": go(n - 1); root.setAttribute("data-done", "true"); break;
        case "play": play(); break;
      }
    }

    Array.prototype.forEach.call(root.querySelectorAll("button[data-act]"), function (b) {
      b.addEventListener("click", function () { act(b.getAttribute("data-act")); });
    });
    root.addEventListener("keydown", function (ev) { key(ev) && ev.preventDefault(); });
    function key(ev) {
      var k = { ArrowRight: "next", ArrowDown: "next", ArrowLeft: "prev", ArrowUp: "prev", Home: "first", End: "last", " ": "play" }[ev.key];
      if (!k) return false;
      act(k);
      return true;
    }
    var api = { go: go, play: play, stop: stop, act: act, key: key, select: select, rows: n };
    root.synackViewer = api;
    render(pos);
    root.setAttribute("data-ready", "true");
    if (root.getAttribute("data-autoplay") === "true") play();
    return api;
  }

  window.synackViewer = { init: init };
  function start() {
    var vs = document.querySelectorAll(".synack-viewer");
    Array.prototype.forEach.call(vs, init);
    // On a page with one viewer, the keys work without clicking it first.
    if (vs.length === 1) {
      document.addEventListener("keydown", function (ev) {
        var t = ev.target && ev.target.tagName;
        if (t === "INPUT" || t === "SELECT" || t === "TEXTAREA" || t === "BUTTON" || vs[0].contains(ev.target)) return;
        if (vs[0].synackViewer.key(ev)) ev.preventDefault();
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
