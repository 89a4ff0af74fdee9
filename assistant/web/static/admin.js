// htmx leaves 4xx answers unswapped. The admin pages answer a refused form (a taken
// email, the shop's last admin, a bad filter) with the form again and the reason, as
// HTML, so those answers are swapped in like any other; JSON errors are left alone.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const { xhr } = event.detail;
  const html = (xhr.getResponseHeader("content-type") || "").startsWith("text/html");
  if (xhr.status >= 400 && xhr.status < 500 && html) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
