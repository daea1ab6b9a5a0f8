"""The demo shop's catalogue (`demo_shop.catalog`) is consistent: unique slugs, every product
drawable, sizes to choose from, and `pairs_with` pointing at real products of the other category
(the cross-sell scenario recommends bottoms for tops)."""

from __future__ import annotations

from demo_shop.catalog import CATEGORIES, PLANS, PRODUCTS, pairs_for
from demo_shop.garments import GARMENTS


def test_slugs_are_unique() -> None:
    slugs = [product.slug for product in PRODUCTS]
    assert len(slugs) == len(set(slugs))


def test_every_product_is_complete_and_drawable() -> None:
    for product in PRODUCTS:
        assert product.category in CATEGORIES, product.slug
        assert product.garment in GARMENTS, product.slug
        assert product.price > 0 and product.sizes and product.description, product.slug


def test_pairs_are_products_of_the_other_category() -> None:
    for product in PRODUCTS:
        pairs = pairs_for(product)
        assert pairs, product.slug
        assert all(pair.category != product.category for pair in pairs), product.slug


def test_there_are_three_plans_and_one_is_recommended() -> None:
    assert [plan.slug for plan in PLANS] == ["light", "standard", "premium"]
    assert sum(plan.recommended for plan in PLANS) == 1
