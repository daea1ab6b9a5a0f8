// The snippet's pre-load queue, as a shop pastes it (in a file: the CSP fixture allows no inline script).
window.irasshai = window.irasshai || function () { (window.irasshai.q = window.irasshai.q || []).push(arguments); };
