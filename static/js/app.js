// Behaviour shared by every page. No inline scripts: the content security policy forbids them.
document.addEventListener("DOMContentLoaded", () => {
  // Django messages arrive as toasts.
  document.querySelectorAll(".toast[data-autoshow]").forEach((element) => {
    window.bootstrap.Toast.getOrCreateInstance(element, { delay: 5000 }).show();
  });

  // Forms marked data-autosubmit submit when any of their selects changes (language switch).
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
});
