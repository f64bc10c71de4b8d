// @ts-check
// Lets xterm.js run under this page's strict CSP (`style-src 'self'`: no inline styles).
//
// xterm's DOM renderer writes part of its CSS (theme colours, cell dimensions, scrollbar) into
// <style> elements it creates, and sets a few cell colours with setAttribute('style', ...). CSP
// blocks both, which leaves the terminal unreadable. Neither needs inline styles: the same CSS can
// go through the CSSOM, which CSP does not restrict (only markup and inline text are). So, before
// xterm runs:
//
// - document.createElement('style') returns an inert stand-in (a <template>, which never renders
//   and is not checked by CSP; even an empty <style> is): its textContent goes into a constructed
//   CSSStyleSheet adopted by the document, and remove() drops the sheet. xterm only appends the
//   element, sets its textContent and removes it;
// - setAttribute('style', css) sets element.style.cssText instead (the same declarations).
//
// CodeMirror (the Files view's editor) needs the same: style-mod writes its CSS into a <style>
// element for a document (it adopts a constructed sheet only inside shadow roots), and a nonce
// (EditorView.cspNonce) is no use with a static page.
//
// This page's own code never creates <style> elements or style attributes, so nothing else is
// affected. The browser tests check that the terminal and the editor render styled with no CSP
// violation (test/e2e/browser.test.ts, test/e2e/file-edit.test.ts).

const realCreateElement = Document.prototype.createElement;
const realSetAttribute = Element.prototype.setAttribute;

/** @param {Document} doc */
function adoptedStyleElement(doc) {
  const el = realCreateElement.call(doc, 'template');
  el.dataset.adoptedStyle = '';
  const sheet = new CSSStyleSheet();
  let text = '';
  let adopted = false;
  const adopt = () => {
    if (!adopted) {
      doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
      adopted = true;
    }
  };
  const drop = () => {
    if (adopted) {
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
      adopted = false;
    }
  };
  Object.defineProperty(el, 'textContent', {
    configurable: true,
    get: () => text,
    set: (value) => {
      text = value == null ? '' : String(value);
      sheet.replaceSync(text);
      adopt();
    },
  });
  const realRemove = el.remove;
  el.remove = function remove() {
    drop();
    return realRemove.call(this);
  };
  return el;
}

/**
 * @this {Document}
 * @param {string} name
 * @param {ElementCreationOptions} [options]
 */
function createElement(name, options) {
  if (typeof name === 'string' && name.toLowerCase() === 'style') return adoptedStyleElement(this);
  return realCreateElement.call(this, name, options);
}
Document.prototype.createElement = /** @type {Document['createElement']} */ (createElement);

/**
 * @this {Element}
 * @param {string} name
 * @param {string} value
 */
function setAttribute(name, value) {
  if (typeof name === 'string' && name.toLowerCase() === 'style' && this instanceof HTMLElement) {
    this.style.cssText = String(value);
    return undefined;
  }
  return realSetAttribute.call(this, name, value);
}
Element.prototype.setAttribute = setAttribute;
