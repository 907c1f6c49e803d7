// Custodian: progressive enhancements only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Bring a refused form's error summary into view and focus, for keyboard and screen
  // reader users.
  const summary = document.getElementById("errors");
  if (summary) summary.focus();
  // Print buttons (hidden without this script, which they need).
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
  // Ask before irreversible actions (forms marked data-confirm).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  }
});
