// A visitor attribute that looks like markup; a template renders it into the engagement's text.
irasshai("set", { name: "<b>x</b>" });
