// Print buttons; a separate file because the CSP forbids inline handlers.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
