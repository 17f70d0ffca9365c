# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta

from .exceptions import ReservationError
from .stock import distance_km

PLAN_ATTEMPTS = 3


class Reservation(metaclass=PoolMeta):
    __name__ = 'stock.reservation'

    @classmethod
    def fulfilment_warehouses(cls, latitude=None, longitude=None):
        "Return the warehouses in the order the fulfilment rule tries them"
        pool = Pool()
        Configuration = pool.get('stock.configuration')
        Location = pool.get('stock.location')
        config = Configuration(1)
        rule = (config.fulfilment_rule
            or Configuration.default_fulfilment_rule())
        central = config.fulfilment_warehouse
        warehouses = Location.search(
            [('type', '=', 'warehouse')], order=[('id', 'ASC')])
        origin = (latitude, longitude)
        if None in origin and central and central.latitude is not None:
            origin = (central.latitude, central.longitude)

        def distance(warehouse):
            if None in origin or warehouse.latitude is None:
                return float('inf')
            return distance_km(*origin, warehouse.latitude,
                warehouse.longitude)
        warehouses.sort(key=distance)
        if rule == 'central_then_nearest' and central in warehouses:
            warehouses.remove(central)
            warehouses.insert(0, central)
        return warehouses

    @classmethod
    def fulfilment_check(
            cls, quantities, store=None, latitude=None, longitude=None):
        """Tell from the committed figures whether {product: quantity in
        its default unit} can be served: at the store, or else where the
        fulfilment rule says, nearest to the coordinates.  Return the
        warehouse to ship from and None: the first one that serves it whole,
        else the first one of a split; or None and the first product that
        neither serves"""
        pool = Pool()
        Availability = pool.get('stock.availability')
        Configuration = pool.get('stock.configuration')
        if store:
            warehouses, split = [store], False
        else:
            warehouses = cls.fulfilment_warehouses(latitude, longitude)
            split = Configuration(1).fulfilment_split
        figures = Availability.get([p.id for p in quantities], warehouses)
        serving = list(warehouses)
        for product, quantity in quantities.items():
            available = [
                max(figures[(product.id, w.id)][2], 0) for w in warehouses]
            if (sum(available) if split else max(available, default=0)) < (
                    quantity):
                return None, product
            serving = [w for w, a in zip(warehouses, available, strict=True)
                if w in serving and a >= quantity]
        return (serving or warehouses)[0], None

    @classmethod
    def hold_delivery(
            cls, requests, latitude=None, longitude=None, expires_at=None):
        """Reserve {product, quantity, origin, channel} requests where the
        fulfilment rule says, nearest to the coordinates of the address"""
        Configuration = Pool().get('stock.configuration')
        warehouses = cls.fulfilment_warehouses(latitude, longitude)
        split = Configuration(1).fulfilment_split
        return cls._hold_planned(requests, warehouses, split, expires_at)

    @classmethod
    def hold_pickup(cls, requests, store, expires_at=None):
        "Reserve {product, quantity, origin, channel} requests at the store"
        return cls._hold_planned(requests, [store], False, expires_at)

    @classmethod
    def _hold_planned(cls, requests, warehouses, split, expires_at):
        # The plan reads committed figures: if another buyer takes the
        # units in between, plan again with the new figures.
        for attempt in range(PLAN_ATTEMPTS):
            planned = cls._plan(requests, warehouses, split)
            try:
                return cls.hold(planned, expires_at)
            except ReservationError:
                if attempt == PLAN_ATTEMPTS - 1:
                    raise

    @classmethod
    def _plan(cls, requests, warehouses, split):
        """Return hold requests with a storage location: the whole order at
        the first warehouse that has everything, or else spread over the
        warehouses in order when split is allowed"""
        pool = Pool()
        Availability = pool.get('stock.availability')
        children = Availability.storage_children(warehouses)
        storages = [s for w in warehouses for s in children[w.id]]
        products = {int(r['product']) for r in requests}
        figures = {k: a for k, (_, _, a) in Availability.get(
                products, storages).items()}

        def take(available, product, quantity, storage_ids, whole):
            "Return [(storage, quantity)] and what is still missing"
            taken = []
            for storage in sorted(
                    storage_ids, key=lambda s: -available[product, s]):
                part = min(quantity, max(available[product, storage], 0))
                if quantity <= 0 or (whole and part < quantity):
                    break
                if part > 0:
                    taken.append((storage, part))
                    available[product, storage] -= part
                    quantity -= part
            return taken, quantity

        for warehouse in warehouses:
            available, plan = dict(figures), []
            for request in requests:
                taken, missing = take(
                    available, int(request['product']), request['quantity'],
                    children[warehouse.id], whole=True)
                if missing:
                    break
                (storage, _), = taken
                plan.append(dict(request, location=storage))
            else:
                return plan

        available, plan = dict(figures), []
        for request in requests:
            product, missing = int(request['product']), request['quantity']
            for warehouse in warehouses if split else warehouses[:1]:
                taken, missing = take(available, product, missing,
                    children[warehouse.id], whole=not split)
                plan += [dict(request, location=s, quantity=q)
                    for s, q in taken]
                if not missing:
                    break
            if missing and warehouses:
                first = children[warehouses[0].id]
                cls.raise_insufficient(
                    product, max(first, key=lambda s: figures[product, s]),
                    request['quantity'])
            elif missing:
                raise ReservationError(gettext(
                        'omni_inventory_bridge.msg_fulfilment_no_location'))
        return plan
