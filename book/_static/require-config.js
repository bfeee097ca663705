// The Jupyter widget manager (widgets/embed-amd.js) finds its icon fonts from its module names
// (@jupyter-widgets/...), which RequireJS resolves against its base URL: point that at the book's own copy in
// _static/widgets/, not at the folder of the page.
require.config({ baseUrl: document.currentScript.src.replace(/[^/]*$/, "widgets/") });
