/* This file is part of Omni Retail.  The COPYRIGHT file at the top level of
   this repository contains the full copyright notices and license terms. */
/* Drives sao through its own API for tests/web_screens.py: opens a menu
   entry's action as a click on the menu does, activates the first row,
   shows every notebook page, closes; records what sao reports (RPCs in
   flight, the dialogs it shows) and the English words left on screen. */
(function() {
    'use strict';
    if (window.omni) {
        return;
    }
    const omni = window.omni = {
        pending: 0,
        dialogs: [],
        wizards: [],
        current: null,
    };

    // Count the RPCs in flight
    const rpc = Sao.rpc;
    Sao.rpc = Object.assign(function() {
        const result = rpc.apply(this, arguments);
        if (result && (typeof result.state == 'function') &&
                (result.state() == 'pending')) {
            omni.pending += 1;
            result.always(() => {
                omni.pending -= 1;
            });
        }
        return result;
    }, rpc);

    // and the promises of sao's screens that chain them: jQuery calls the
    // callbacks of a promise later, so there are gaps between the RPCs
    function track(object, name) {
        const method = object[name];
        object[name] = function() {
            const result = method.apply(this, arguments);
            if (result && (typeof result.state == 'function') &&
                    (result.state() == 'pending')) {
                omni.pending += 1;
                result.always(() => {
                    omni.pending -= 1;
                });
            }
            return result;
        };
    }
    track(Sao.Tab, 'create');
    for (const name of [
            'switch_view', 'search_filter', 'display', 'load_next_view',
            'reload']) {
        track(Sao.Screen.prototype, name);
    }

    // Record every dialog sao opens to report a problem or to ask
    for (const name of [
            'error', 'warning', 'message', 'userwarning', 'concurrency',
            'sur', 'sur_3b', 'ask']) {
        const dialog = Sao.common[name];
        if (!dialog || (typeof dialog.run != 'function')) {
            continue;
        }
        const run = dialog.run;
        dialog.run = function() {
            omni.dialogs.push({
                kind: name,
                text: Array.from(arguments).map(String).join(' | '),
            });
            return run.apply(this, arguments);
        };
    }
    window.alert = function(message) {
        omni.dialogs.push({kind: 'alert', text: String(message)});
    };

    const wizard_run = Sao.Wizard.prototype.run;
    Sao.Wizard.prototype.run = function() {
        omni.wizards.push(this);
        return wizard_run.apply(this, arguments);
    };

    const sleep = ms => new Promise(resolve => window.setTimeout(resolve, ms));

    // Wait until no RPC nor AJAX has been in flight for quiet ms, or a
    // dialog was opened (it holds its RPC until closed)
    omni.idle = async function(quiet=30, timeout=30000) {
        const dialogs = omni.dialogs.length;
        const start = Date.now();
        let since = null;
        for (;;) {
            if (omni.dialogs.length > dialogs) {
                await sleep(300);  // let it fade in for the screenshot
                return 'dialog';
            }
            if ((omni.pending > 0) || (jQuery.active > 0)) {
                since = null;
            } else if (since === null) {
                since = Date.now();
            } else if (Date.now() - since >= quiet) {
                return 'idle';
            }
            if (Date.now() - start > timeout) {
                return 'timeout';
            }
            await sleep(20);
        }
    };

    const visible = el => Boolean(el && (
        el.offsetWidth || el.offsetHeight || el.getClientRects().length));

    // Text shown for the values of records, not by the user interface:
    // list cells other than selections, link buttons, rich text, charts'
    // axes and the titles that name a record
    const DATA = [
        '[class*="column-"]:not(.column-selection)' +
            ':not(.column-multiselection)',
        '.form-link', '.form-richtext', '.form-html', '.form-dict',
        '.bb-axis', '.bb-tooltip-container', '.bb-texts',
        '.tab-form > .panel-heading .title',  // breadcrumb of the record
        '#tablist .tab-title', '.modal-title',  // the action's name,
                                                 // checked from its menu
        '#menu', '#user-preferences', '#user-favorites',
        ].join(', ');
    const WORD = /[A-Za-z][A-Za-z'’]*/g;

    function add(words, text, where) {
        for (const word of (text || '').match(WORD) || []) {
            if (!Object.hasOwn(words, word)) {
                words[word] = where.slice(0, 120);
            }
        }
    }

    // The English words visible under root: {word: the text it was in}
    omni.words = function(root) {
        const words = Object.create(null);
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        let node;
        while ((node = walker.nextNode())) {
            const parent = node.parentElement;
            if (!parent || !node.textContent.trim()
                    || ['SCRIPT', 'STYLE', 'OPTION'].includes(parent.tagName)
                    || !visible(parent) || parent.closest(DATA)) {
                continue;
            }
            const style = window.getComputedStyle(parent);
            if (style.visibility == 'hidden') {
                continue;
            }
            add(words, node.textContent, node.textContent.trim());
        }
        for (const select of root.querySelectorAll('select')) {
            if (visible(select) && !select.closest(DATA)
                    && (select.selectedIndex >= 0)) {
                const text = select.options[select.selectedIndex].text;
                add(words, text, 'selection: ' + text);
            }
        }
        for (const input of root.querySelectorAll('[placeholder]')) {
            if (visible(input) && !input.closest(DATA)) {
                add(words, input.placeholder,
                    'placeholder: ' + input.placeholder);
            }
        }
        return words;
    };

    function tab_element(tab) {
        return tab.el[0];
    }

    function describe(current) {
        const result = {kind: current.kind};
        if (current.tab && current.tab.screen) {
            const screen = current.tab.screen;
            result.model = screen.model_name;
            result.view = screen.current_view ?
                screen.current_view.view_type : null;
            result.views = screen.views.map(v => v.view_type).concat(
                screen.view_to_load);
            result.records = screen.group.length;
        } else if (current.wizard) {
            result.model = current.wizard.action;
            result.view = 'wizard';
        }
        if (current.tab) {
            result.title = current.tab.name_long;
        }
        return result;
    }

    function root(current) {
        if (current.wizard && current.wizard.dialog) {
            return current.wizard.dialog[0];
        } else if (current.tab) {
            return tab_element(current.tab);
        }
        return document.body;
    }

    function report(current, step, state) {
        const result = describe(current);
        result.step = step;
        result.state = state;
        result.words = omni.words(root(current));
        // The action's name as the tab or the dialog shows it; a tab
        // opened from a record adds the record's name in brackets
        let name = current.tab && (step != 'related') ?
            current.tab.name_long : null;
        if (current.wizard) {
            name = current.wizard.name;
        }
        if (name) {
            add(result.words, name, 'title: ' + name);
        }
        // The actions, relates and reports of the toolbar's drop-downs
        if (current.tab && current.tab.el) {
            current.tab.el.find(['action', 'relate', 'print'].map(
                    id => `.dropdown-menu[aria-labelledby="${id}"] a`)
                .join(', ')).each(function() {
                    const text = this.textContent;
                    add(result.words, text, 'toolbar: ' + text);
                });
        }
        return result;
    }

    // Open the action of the menu entry as a click on the menu does; the
    // action is one of those ir.action.keyword.get_keyword gives for it
    // (a menu entry with several asks which one to open)
    omni.open = async function(menu_id, action) {
        const tabs = new Set(Sao.Tab.tabs);
        const wizards = omni.wizards.length;
        // ids is not defined to prevent to add suffix, as the menu does
        Sao.Action.exec_action(action, {
            'model': 'ir.ui.menu',
            'id': menu_id,
        });
        let state = await omni.idle();
        const tab = Sao.Tab.tabs.find(t => !tabs.has(t)) || null;
        const wizard = omni.wizards.length > wizards ?
            omni.wizards[omni.wizards.length - 1] : null;
        let kind = 'none';
        if (wizard) {
            kind = wizard.tab || tab ? 'wizard-tab' : 'wizard';
        } else if (tab && tab.screen) {
            kind = 'form';
        } else if (tab && tab.board) {
            kind = 'board';
        } else if (tab) {
            kind = 'tab';
        }
        const current = omni.current = {kind: kind, tab: tab, wizard: wizard};
        if (wizard && !tab && wizard.tab) {
            current.tab = wizard.tab;
        }
        return report(current, 'open', state);
    };

    // Show every notebook page under el, one after the other, and gather
    // the words of each
    async function pages(current, result) {
        const done = new Set();
        for (;;) {
            const links = Array.from(root(current).querySelectorAll(
                    '.form-notebook > .nav-tabs > li > a'))
                .filter(a => !done.has(a) && visible(a));
            if (!links.length) {
                break;
            }
            for (const link of links) {
                done.add(link);
                jQuery(link).tab('show');
                const state = await omni.idle(10);
                if (state != 'idle') {
                    result.state = state;
                }
                Object.assign(result.words, omni.words(root(current)));
            }
        }
        result.pages = done.size;
    }

    // Open the first record as a double click on its row does, and show
    // the pages of its form
    omni.form = async function() {
        const current = omni.current;
        const screen = current.tab && current.tab.screen;
        if (!screen || !screen.group.length) {
            return null;
        }
        const tabs = new Set(Sao.Tab.tabs);
        if (screen.current_view.view_type != 'form') {
            screen.current_record = screen.group[0];
            screen.row_activate();
        }
        const state = await omni.idle();
        const tab = Sao.Tab.tabs.find(t => !tabs.has(t));
        if (tab) {
            // A tree_open action of the row's model
            current.related = tab;
            const related = {kind: 'form', tab: tab};
            const result = report(related, 'related', state);
            await pages(related, result);
            return result;
        }
        const result = report(current, 'form', state);
        await pages(current, result);
        return result;
    };

    // Show the pages of a wizard's first form or of a form opened at once
    omni.pages = async function() {
        const result = report(omni.current, 'pages', 'idle');
        await pages(omni.current, result);
        return result;
    };

    // Open the menu entry's action, the first record's form and every
    // page; return what each step showed
    omni.visit = async function(menu_id, action) {
        const opened = await omni.open(menu_id, action);
        const steps = [opened];
        if ((opened.state == 'idle') && (['wizard', 'wizard-tab'].includes(
                        opened.kind) || (opened.view == 'form'))) {
            steps.push(await omni.pages());
        } else if ((opened.state == 'idle') && opened.records) {
            const form = await omni.form();
            if (form) {
                steps.push(form);
            }
        }
        return steps;
    };

    function close_tab(tab) {
        if (tab.screen && tab.screen.modified()) {
            omni.dialogs.push({kind: 'modified', text: tab.name_long});
            for (const record of tab.screen.group) {
                record.cancel();
            }
        }
        return tab.close();
    }

    // Close the dialogs sao shows, cancel the wizard, close the tabs
    omni.close = async function() {
        const current = omni.current;
        omni.dismiss();
        if (current && current.wizard) {
            const wizard = current.wizard;
            if (wizard.session_id && (wizard.state != wizard.end_state)) {
                wizard.end();
            }
            await omni.idle();
        }
        for (const tab of Sao.Tab.tabs.slice().reverse()) {
            await close_tab(tab);
        }
        await omni.idle(20);
        omni.dismiss();
        jQuery('.modal').remove();
        jQuery('.modal-backdrop').remove();
        jQuery('body').removeClass('modal-open');
        omni.current = null;
        return Sao.Tab.tabs.length;
    };

    // Press the button that closes each message, warning or error dialog
    omni.dismiss = function() {
        jQuery('.modal:visible').each(function() {
            const modal = jQuery(this);
            if (modal.hasClass('wizard-dialog')) {
                return;
            }
            modal.find('.modal-footer .btn-primary, .modal-footer .btn')
                .last().click();
        });
    };

    // Run an async function of omni for selenium's execute_async_script
    omni.call = function(name, args, callback) {
        omni[name].apply(omni, args).then(
            result => callback(JSON.stringify(result)),
            error => callback(JSON.stringify({
                exception: String(error && error.stack || error)})));
    };
}());
