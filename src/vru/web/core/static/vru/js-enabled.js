// GOV.UK Frontend: mark the page as having JavaScript before components render (an external file,
// because the content security policy allows no inline script).
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
