# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta

from trytond.modules.omni_inventory_bridge.stock import distance_km


class TargetCampaign(metaclass=PoolMeta):
    __name__ = 'member.target_campaign'

    @classmethod
    def store_for(cls, member, products):
        """Return the store nearest to the member's join store where one of
        the products is available, or the join store when none has any"""
        pool = Pool()
        Availability = pool.get('stock.availability')
        Location = pool.get('stock.location')
        home = super().store_for(member, products)
        if not products:
            return home
        stores = Location.search([('type', '=', 'warehouse')])
        figures = Availability.get(products, stores)
        stocked = [
            s for s in stores
            if any(figures.get((p.id, s.id), (0, 0, 0))[2] > 0
                for p in products)]

        def distance(store):
            if store == home:
                return 0
            if (home is None or home.latitude is None
                    or store.latitude is None):
                return float('inf')
            return distance_km(
                home.latitude, home.longitude,
                store.latitude, store.longitude)
        return min(stocked, key=distance, default=home)
