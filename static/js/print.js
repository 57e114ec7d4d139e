// A button that prints the page it is on (the invitation sheets: one printed page a team).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
