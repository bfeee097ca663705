// Every figure in a chapter's outputs opens at full size in a new tab when clicked.
document.addEventListener("DOMContentLoaded", () => {
  for (const img of document.querySelectorAll(".cell_output img")) {
    if (img.closest("a")) continue;
    const link = document.createElement("a");
    link.href = img.src;
    link.target = "_blank";
    link.title = "open the figure at full size";
    img.replaceWith(link);
    link.appendChild(img);
  }
});
