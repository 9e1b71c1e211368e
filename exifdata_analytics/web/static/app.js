// ExifData Analytics, local browser: the copy button (the only script; everything else is links)
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest("button.copy");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) return;
  var text = source.textContent;
  var answered = false;
  function done(ok) {
    if (answered) return;
    answered = true;
    button.textContent = ok ? "Copied" : "Select and copy";
    button.setAttribute("data-copied", ok ? "yes" : "no");
  }
  // Without the clipboard the text is left selected, so the user can copy it by hand.
  function selectAndCopy() {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    done(ok);
  }
  if (navigator.clipboard && window.isSecureContext) {
    // A browser may leave the promise pending (a permission prompt nobody answers): fall back after 2 s.
    var fallback = setTimeout(function () { if (!answered) selectAndCopy(); }, 2000);
    navigator.clipboard.writeText(text).then(
      function () { clearTimeout(fallback); done(true); },
      function () { clearTimeout(fallback); selectAndCopy(); });
  } else {
    selectAndCopy();
  }
});
