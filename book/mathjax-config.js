// MathJax 3, served from the book's _static/mathjax/ (no network), with the options myst-parser set just before.
// The Jupyter widget manager still asks MathJax 2 (MathJax.Hub.Queue) to typeset its labels: answer that call with
// MathJax 3's typesetting, before and after MathJax has started.
(function () {
  const hub = {
    Queue(...calls) {
      if (!window.MathJax || !MathJax.typesetPromise) return;
      const elements = calls.flatMap((call) => (Array.isArray(call) ? call : [])).filter((x) => x instanceof Element);
      MathJax.typesetPromise(elements.length ? elements : undefined);
    },
  };
  const config = window.MathJax || {};
  config.Hub = hub;
  config.startup = Object.assign(config.startup || {}, {
    ready() {
      MathJax.startup.defaultReady();
      MathJax.Hub = hub;
    },
  });
  window.MathJax = config;
})();
