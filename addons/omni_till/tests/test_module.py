# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import re
from pathlib import Path

from trytond.tests.test_tryton import ModuleTestCase

from trytond.modules.omni_inventory_bridge.tests.tools import SaoWidgetsMixin
from trytond.modules.omni_till.sale_point import receipt_text


class OmniTillTestCase(SaoWidgetsMixin, ModuleTestCase):
    "Test Omni Till module"
    module = 'omni_till'

    def test_receipt_text(self):
        "The receipt's QR code: the shop's link with the number, or bare"
        self.assertEqual(receipt_text('WL/7'), 'OMNIRECEIPT:WL/7')
        self.assertEqual(
            receipt_text('WL/7', 'https://shop.example.com/mp/receipt'),
            'https://shop.example.com/mp/receipt?n=WL%2F7')
        self.assertEqual(
            receipt_text('7', 'https://shop.example.com/r?from=till'),
            'https://shop.example.com/r?from=till&n=7')

    def test_receipt_scan(self):
        "The till's return scan reads the number of both QR codes"
        script = (Path(__file__).parent.parent / 'static' / 'till.js'
            ).read_text(encoding='utf-8')
        # The JavaScript pattern, as Python reads it
        source = ''.join(re.findall(
            r"'((?:[^'\\]|\\.)*)'", script.split(
                'const RECEIPT = new RegExp(')[1].split(", 'i');")[0]))
        pattern = re.compile(source.encode().decode('unicode_escape'), re.I)
        for text, number in [
                ('OMNIRECEIPT:WL/7', 'WL/7'),
                (receipt_text('WL/7', 'https://shop.example.com/mp/receipt'),
                    'WL%2F7'),
                ('https://s.example.com/r?a=1&n=7#x', '7'),
                ]:
            with self.subTest(text=text):
                match = pattern.search(text)
                self.assertEqual(match.group(1) or match.group(2), number)
        self.assertIsNone(pattern.search('6901234567892'))


del ModuleTestCase
