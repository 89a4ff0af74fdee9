// The estimate table: its "Copy as text" button wherever it is shown, the estimates page's
// form and RO panel, and `attachEstimate` for the chat page to show an answer's draft.

const wired = new WeakSet();

function wireCopy(root) {
  if (!root || wired.has(root)) return;
  wired.add(root);
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-estimate-copy]");
    if (!button || !root.contains(button)) return;
    const estimate = button.closest(".estimate");
    const text = estimate?.querySelector("template.estimate-text")?.content.textContent.trim() || "";
    const status = estimate?.querySelector(".copy-status");
    try {
      await navigator.clipboard.writeText(text);
      if (status) status.textContent = "Copied as text.";
    } catch {
      if (status) status.textContent = "Copying is not available in this browser.";
    }
  });
}

/** Shows the draft stored with chat answer `messageId` in `container`; false when it has none. */
export async function attachEstimate(container, messageId) {
  // As htmx would: a lapsed session then answers HX-Redirect, not a sign-in page to insert.
  const response = await fetch(`/ui/messages/${encodeURIComponent(messageId)}/estimate`, {
    headers: { "hx-request": "true" },
  });
  const redirect = response.headers.get("hx-redirect");
  if (redirect) {
    window.location.assign(redirect);
    return false;
  }
  if (!response.ok || response.status === 204) return false;
  container.innerHTML = await response.text();
  window.htmx?.process(container);
  wireCopy(container);
  return true;
}

function initPage(form) {
  const result = document.getElementById("estimate-result");
  const panel = document.getElementById("ro-panel");
  const panelBody = document.getElementById("ro-panel-body");
  let lastFocus = null;
  wireCopy(result);

  // "Download CSV" submits this form again: once it differs from the draft shown, the file
  // would not be that draft.
  form.addEventListener("input", () => {
    const download = result.querySelector("button[data-estimate-download]");
    if (!download || download.disabled) return;
    download.disabled = true;
    const status = result.querySelector(".copy-status");
    if (status) status.textContent = "The form has changed: draft again to download it.";
  });

  // htmx swaps no 4xx by default; these answers carry what to correct, so show them.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const { target, xhr } = event.detail;
    if (xhr.status < 400) return;
    const html = (xhr.getResponseHeader("content-type") || "").includes("text/html");
    if (target === result) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      if (!html) {
        event.detail.serverResponse =
          `<div class="estimate-errors error" role="alert"><p>The estimate could not be drafted (error ${xhr.status}). Try again.</p></div>`;
      }
    } else if (panelBody.contains(target)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      if (!html || target === panelBody) {
        event.detail.serverResponse = '<p class="error" role="alert">This repair order could not be opened.</p>';
      }
    }
  });

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.target === panelBody) lastFocus = event.detail.elt;
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target === result) {
      result.querySelector(".estimate-title")?.focus();
    } else if (target === panelBody) {
      panel.hidden = false;
      panelBody.querySelector(".line.cited")?.scrollIntoView({ block: "nearest" });
      (panelBody.querySelector("h2") || panel).focus();
    }
  });

  function closePanel() {
    panel.hidden = true;
    panelBody.textContent = "";
    lastFocus?.focus();
  }

  document.getElementById("ro-panel-close").addEventListener("click", closePanel);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) closePanel();
  });
}

const pageForm = document.getElementById("estimate-form");
if (pageForm) initPage(pageForm);
