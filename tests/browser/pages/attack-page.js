// The hostile page's own behaviour: its controls count clicks (so a test can tell they still
// work), and its "Add to cart" tells Irasshai, as a shop does: a custom event with a date in its
// properties, and who the customer is.
(function () {
  var clicks = 0;
  function count(event) {
    event.preventDefault();  // the link stays on this page, where it is
    clicks += 1;
    document.getElementById("clicks").textContent = clicks + " " + event.currentTarget.id;
  }
  document.getElementById("buy").addEventListener("click", count);
  document.getElementById("totop").addEventListener("click", count);
  document.getElementById("home").addEventListener("click", count);
  document.getElementById("buy").addEventListener("click", function () {
    irasshai("track", "add_to_cart", { price: 6900, added: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) });
    irasshai("identify", { id: "C-1001", name: "山田 花子" });
  });
})();
