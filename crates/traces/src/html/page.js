// Conveniences over a page that reads the same without them: fold a
// span's children (the button before its name), open or close every row.
// When done, sets data-ready on <html> to the number of rows it saw.
(function () {
  "use strict";
  const rows = Array.from(document.querySelectorAll("details.span"));
  const depth = (row) => Number(row.dataset.depth);

  // A row is hidden when any row above it in its subtree is folded.
  function refresh(section) {
    let foldedAt = Infinity;
    for (const row of section.querySelectorAll("details.span")) {
      if (depth(row) <= foldedAt) foldedAt = Infinity;
      row.hidden = depth(row) > foldedAt;
      if (!row.hidden && row.classList.contains("folded")) foldedAt = depth(row);
    }
  }

  function fold(row, folded) {
    row.classList.toggle("folded", folded);
    const button = row.querySelector(":scope > summary .fold");
    if (button) {
      button.textContent = folded ? "▸" : "▾";
      button.setAttribute("aria-expanded", String(!folded));
    }
  }

  for (const row of rows) {
    const next = row.nextElementSibling;
    const parent = next && next.matches("details.span") && depth(next) > depth(row);
    const name = row.querySelector(":scope > summary .name");
    const mark = document.createElement(parent ? "button" : "span");
    if (parent) {
      mark.className = "fold";
      mark.type = "button";
      mark.title = "fold or unfold the spans under this one";
      mark.addEventListener("click", (event) => {
        // The button sits in the row's summary: do not open the row too.
        event.preventDefault();
        event.stopPropagation();
        fold(row, !row.classList.contains("folded"));
        refresh(row.closest("section"));
      });
    } else {
      mark.className = "leaf";
    }
    name.prepend(mark);
    if (parent) fold(row, false);
  }

  const controls = document.querySelector("header .controls");
  const action = (label, act) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", act);
    controls.append(button);
  };
  action("open every row", () => rows.forEach((row) => { row.open = true; }));
  action("close every row", () => rows.forEach((row) => { row.open = false; }));
  action("unfold every span", () => {
    rows.forEach((row) => fold(row, false));
    document.querySelectorAll("section.trace").forEach(refresh);
  });

  document.documentElement.dataset.ready = String(rows.length);
})();
