// A stranger on another site posts a fake ring into the panel frame, then tells the desktop.
(function () {
  "use strict";
  const events = JSON.parse(decodeURIComponent(location.hash.slice(1) || "[]"));
  window.parent.frames[0].postMessage({issuer: "CXA", contactId: null, events}, "*");
  window.parent.postMessage({foreignSent: true}, "*");
})();
