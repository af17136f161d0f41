"""``{% load lvn %}``: ``{% card opp sl=... add=... on=... %}`` renders one result card (``cards.card``)."""

from django import template

from ..cards import card as render_card

register = template.Library()


@register.simple_tag
def card(opp, sl="", add=None, on=False):
    return render_card(opp, sl=sl or "", add_to_shortlist=add, in_shortlist=bool(on))
