// Building DOM nodes with text only: user-supplied strings never pass through HTML parsing.

/** Return a new element with attributes, listeners ("on..." functions) and children (strings become text). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value != null) node.setAttribute(name, String(value));
  }
  node.append(...children.filter((child) => child != null));
  return node;
}

/** Return the element with an id. */
export const byId = (id) => document.getElementById(id);

/** Return a share (0..1) as a whole percentage. */
export const percent = (share) => `${Math.round(share * 100)}%`;

/** Call onFiles with the files dropped on a target, highlighting it while something is dragged over. */
export function dropTarget(target, onFiles) {
  target.addEventListener("dragover", (event) => {
    event.preventDefault();
    target.classList.add("over");
  });
  target.addEventListener("dragleave", () => target.classList.remove("over"));
  target.addEventListener("drop", (event) => {
    event.preventDefault();
    target.classList.remove("over");
    onFiles(event.dataTransfer);
  });
}
