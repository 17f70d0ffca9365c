/* This file is part of Omni Retail.  The COPYRIGHT file at the top level of
   this repository contains the full copyright notices and license terms.

   Fixes to the web client (sao 8.0), which loads this file after itself.

   A selection widget (a Selection field, or a Many2One with
   widget="selection") rebuilds its options each time the form is displayed
   and selects the record's value only in a promise callback, so for a moment
   the <select> shows its first option.  A button clicked while another field
   loses the focus (the clerk types the amount of a POS payment and clicks OK)
   reads the widgets in that moment and writes the first option into the
   record: the payment was recorded as paid by 微信支付 instead of 积分.
   Select the record's value as soon as the options are rebuilt. */
(function() {
    'use strict';
    var Selection = Sao.View.Form.Selection.prototype;
    var set_selection = Selection.set_selection;
    Selection.set_selection = function(selection, help) {
        set_selection.call(this, selection, help);
        if (this.record && this.field) {
            var value = JSON.stringify(this.field.get(this.record));
            var found = this.select.children('option').filter(function() {
                return this.value === value;
            });
            if (found.length) {
                this.select.val(value);
            }
        }
    };
}());
