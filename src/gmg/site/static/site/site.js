// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // "Copy citation": shown only where the clipboard can be used.
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent.trim();
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy citation"; }, 2000);
    });
  }
  // Changing the sort order applies it at once (the no-script form has an Apply button).
  const sort = document.querySelector("form.search select[name=sort]");
  if (sort) sort.addEventListener("change", () => sort.form.requestSubmit());
});
