# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The recorded contract's comparison catches an answer that changed shape,
and its normalisation keeps only what does not change between runs."""
import copy
import json

import mall_recording
from mall_recording import RECORDED, differences, normalise, shape


def recorded(name):
    return json.loads((RECORDED / f'{name}.json').read_text())


def test_same_shape():
    "Other values of the same types are the same shape"
    old = recorded('product')
    new = copy.deepcopy(old)
    new['body']['name'] = "别的茶"
    new['body']['available'] = 3
    new['body']['stores'] = new['body']['stores'][:1]
    assert list(differences(shape(old), shape(new))) == []


def test_changed_shape():
    "A field renamed, gone or of another type is a difference"
    old = recorded('product')
    new = copy.deepcopy(old)
    for image in new['body']['images']:
        image['src'] = image.pop('url')
    del new['body']['nearby_stock']
    new['body']['price'] = 268
    assert list(differences(shape(old), shape(new))) == [
        '/body/images[]/src: new',
        '/body/images[]/url: no longer answered',
        '/body/nearby_stock: no longer answered',
        '/body/price: string became number',
        ]


def test_normalise():
    "Secrets and codes become fixed values, dates move by whole days"
    answer = {
        'token': 'secret-token', 'expires_at': '2026-12-06T09:01:29Z',
        'code': '880012345678901234', 'refresh_in': 25,
        'pickup': {'code': '1234567890', 'qr': 'OMNIPICKUP:1234567890',
            'deadline': '2026-12-09'},
        'payment': {'paySign': 'c2ln', 'timeStamp': '1796547335'},
        'number': '4', 'price': '268.00', 'coupon': 'CAB5733981361',
        }
    assert normalise(answer, -339) == {
        'token': mall_recording.FIXED['token'],
        'expires_at': '2026-01-01T09:01:29Z',
        'code': mall_recording.MEMBER_CODE, 'refresh_in': 25,
        'pickup': {'code': mall_recording.PICKUP_CODE,
            'qr': 'OMNIPICKUP:' + mall_recording.PICKUP_CODE,
            'deadline': '2026-01-04'},
        'payment': {'paySign': mall_recording.FIXED['paySign'],
            'timeStamp': '1767225600'},
        'number': '4', 'price': '268.00',
        'coupon': mall_recording.COUPON_NUMBER,
        }
