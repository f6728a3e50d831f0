from enum import StrEnum


class ProductStatus(StrEnum):
    DRAFT = "draft"  # being prepared; never shown to shoppers
    ON_SALE = "on_sale"  # listed, searchable and buyable
    OFF_SHELF = "off_shelf"  # taken off sale; orders keep their snapshot


ALLOWED_TRANSITIONS: dict[ProductStatus, set[ProductStatus]] = {
    ProductStatus.DRAFT: {ProductStatus.ON_SALE, ProductStatus.OFF_SHELF},
    ProductStatus.ON_SALE: {ProductStatus.OFF_SHELF},
    ProductStatus.OFF_SHELF: {ProductStatus.ON_SALE, ProductStatus.DRAFT},
}


class SortOrder(StrEnum):
    RELEVANCE = "relevance"  # best match first (newest first without a query)
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    SALES = "sales"  # best sellers first
    NEWEST = "newest"
