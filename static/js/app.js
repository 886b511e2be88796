// The site's own behaviour, loaded on every page (no inline script is allowed by the
// Content-Security-Policy).

// A field marked data-select-on-click (e.g. a calendar feed's address, to copy) selects its
// whole value when clicked.
document.addEventListener("click", (event) => {
  const field = event.target.closest("[data-select-on-click]");
  if (field) field.select();
});
