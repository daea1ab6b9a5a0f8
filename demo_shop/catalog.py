"""The demo shop's products, as plain data.

Prices are in yen, tax included. `garment` names the silhouette drawn by `garments.py`;
`pairs_with` lists slugs of the other category, for the cross-sell scenario (tops → bottoms).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    lead: str


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    category: str
    price: int
    colour_name: str
    colour: str
    garment: str
    sizes: tuple[str, ...]
    description: str
    pairs_with: tuple[str, ...]
    featured: bool = False


CATEGORIES = {
    "tops": Category("tops", "トップス", "毎日袖を通したくなる、素材から選んだ定番たち。"),
    "bottoms": Category("bottoms", "ボトムス", "どのトップスとも合わせやすい、ほどよいシルエット。"),
}

TOP_SIZES = ("S", "M", "L", "XL")
BOTTOM_SIZES = ("S", "M", "L")

PRODUCTS = (
    Product(
        "organic-cotton-tee",
        "オーガニックコットン Tシャツ",
        "tops",
        3900,
        "オフホワイト",
        "#f2eee4",
        "tshirt",
        TOP_SIZES,
        "インド産オーガニックコットンを度詰めで編んだ、透けにくく首元がよれにくい一枚。"
        "洗うほどに柔らかく肌になじみます。",
        ("wide-chino", "selvedge-jeans"),
        featured=True,
    ),
    Product(
        "heavyweight-pocket-tee",
        "ヘビーウェイト ポケットTシャツ",
        "tops",
        4400,
        "ネイビー",
        "#2c3a55",
        "pocket_tshirt",
        TOP_SIZES,
        "7.1オンスの肉厚な天竺に胸ポケットを添えました。一枚で着てもさまになる、しっかりとした生地感です。",
        ("linen-easy-shorts", "tapered-slacks"),
    ),
    Product(
        "oxford-button-down",
        "オックスフォード ボタンダウンシャツ",
        "tops",
        7900,
        "サックスブルー",
        "#9dbbd8",
        "shirt",
        TOP_SIZES,
        "ハリのあるオックスフォード生地で仕立てた、襟の表情が美しいボタンダウン。ジャケットの中にも休日にも。",
        ("tapered-slacks", "wide-chino"),
        featured=True,
    ),
    Product(
        "linen-open-collar-shirt",
        "リネン オープンカラーシャツ",
        "tops",
        8800,
        "セージグリーン",
        "#a7b59a",
        "shirt",
        TOP_SIZES,
        "フレンチリネン100%。風を通す軽さと、ほどよいシワ感が夏の装いに涼しげな表情を添えます。",
        ("linen-easy-shorts", "pleated-long-skirt"),
        featured=True,
    ),
    Product(
        "cashmere-crew-knit",
        "カシミヤ クルーネックニット",
        "tops",
        48000,
        "キャメル",
        "#c19a6b",
        "knit",
        TOP_SIZES,
        "内モンゴル産の上質なカシミヤ糸を、熟練の職人が一着ずつ編み立てました。"
        "驚くほど軽く、長く大切に着られる一生ものです。",
        ("tapered-slacks", "pleated-long-skirt"),
        featured=True,
    ),
    Product(
        "merino-cardigan",
        "メリノウール カーディガン",
        "tops",
        12800,
        "チャコールグレー",
        "#4a4c52",
        "cardigan",
        TOP_SIZES,
        "チクチクしにくい極細メリノウール。薄手で羽織りやすく、季節の変わり目に重宝します。",
        ("wide-chino", "corduroy-skirt"),
    ),
    Product(
        "french-terry-hoodie",
        "裏毛 スウェットパーカー",
        "tops",
        9800,
        "杢グレー",
        "#a9aaa8",
        "hoodie",
        TOP_SIZES,
        "ふっくらとした吊り編み裏毛を使用。ゆとりのある身幅で、重ね着にもぴったりです。",
        ("selvedge-jeans", "linen-easy-shorts"),
        featured=True,
    ),
    Product(
        "selvedge-jeans",
        "セルビッジ ストレートジーンズ",
        "bottoms",
        14800,
        "インディゴ",
        "#2f4a73",
        "jeans",
        ("28", "30", "32", "34"),
        "旧式の力織機で織ったセルビッジデニム。穿き込むほどに自分だけの色落ちが楽しめます。",
        ("organic-cotton-tee", "french-terry-hoodie"),
        featured=True,
    ),
    Product(
        "wide-chino",
        "ワイド チノパンツ",
        "bottoms",
        9900,
        "ベージュ",
        "#d4bf9a",
        "wide_trousers",
        BOTTOM_SIZES,
        "ゆったりとしたワイドシルエットのチノ。センタープレスで、カジュアルすぎない印象です。",
        ("organic-cotton-tee", "oxford-button-down"),
        featured=True,
    ),
    Product(
        "tapered-slacks",
        "テーパード スラックス",
        "bottoms",
        11000,
        "チャコール",
        "#3d3f45",
        "trousers",
        BOTTOM_SIZES,
        "ストレッチの効いたウール調素材。裾に向かって細くなるラインで、きれいめにもカジュアルにも。",
        ("cashmere-crew-knit", "oxford-button-down"),
    ),
    Product(
        "pleated-long-skirt",
        "プリーツ ロングスカート",
        "bottoms",
        9200,
        "ダークネイビー",
        "#27314a",
        "skirt",
        BOTTOM_SIZES,
        "歩くたびに揺れる細かなプリーツ。ウエストはゴム仕様で、一日中快適に過ごせます。",
        ("cashmere-crew-knit", "linen-open-collar-shirt"),
        featured=True,
    ),
    Product(
        "corduroy-skirt",
        "コーデュロイ 台形スカート",
        "bottoms",
        7700,
        "ブラウン",
        "#7a5238",
        "a_line_skirt",
        BOTTOM_SIZES,
        "やわらかな細畝コーデュロイ。ひざ丈の台形シルエットが、ニットやシャツとよく合います。",
        ("merino-cardigan", "oxford-button-down"),
    ),
    Product(
        "linen-easy-shorts",
        "リネン イージーショーツ",
        "bottoms",
        5900,
        "カーキ",
        "#8c8a5c",
        "shorts",
        BOTTOM_SIZES,
        "リネンとコットンの混紡で、さらりとした穿き心地。ウエストは紐で調整できます。",
        ("linen-open-collar-shirt", "heavyweight-pocket-tee"),
    ),
)


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    monthly_price: int
    summary: str
    features: tuple[str, ...]
    recommended: bool = False


# The 定期便 (subscription) plans on /pricing, the page watched for "pricing hesitation".
PLANS = (
    Plan(
        "light",
        "ライト",
        2980,
        "まずは気軽に試したい方に",
        ("2か月に1着お届け", "スタイリストのおすすめから選べる", "送料無料", "いつでも解約可能"),
    ),
    Plan(
        "standard",
        "スタンダード",
        4980,
        "毎月の着こなしを楽しみたい方に",
        ("毎月1着お届け", "好みに合わせたスタイリング提案", "送料無料", "会員価格10%オフ", "いつでも解約可能"),
        recommended=True,
    ),
    Plan(
        "premium",
        "プレミアム",
        9800,
        "素材と仕立てにこだわる方に",
        (
            "毎月2着お届け",
            "専任スタイリストとチャット相談",
            "カシミヤ・リネンなど上位素材から選べる",
            "送料無料・返品無料",
            "会員価格15%オフ",
        ),
    ),
)

_BY_SLUG = {product.slug: product for product in PRODUCTS}


def product_by_slug(slug: str) -> Product | None:
    return _BY_SLUG.get(slug)


def products_in(category: str) -> list[Product]:
    return [product for product in PRODUCTS if product.category == category]


def featured_products() -> list[Product]:
    return [product for product in PRODUCTS if product.featured]


def pairs_for(product: Product) -> list[Product]:
    return [_BY_SLUG[slug] for slug in product.pairs_with]
