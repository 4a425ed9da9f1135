from django.urls import reverse

from crm.navigation import nav_entries_for, nav_items_for


def test_related_pages_are_grouped_into_menus_in_order(rep):
    entries = nav_entries_for(nav_items_for(rep))

    keys = [entry.key for entry in entries]
    assert keys.index("my_day") < keys.index("customers") < keys.index("sales")
    sales = next(entry for entry in entries if entry.key == "sales")
    assert "deals" in [item.key for item in sales.items]
    assert sales.item is None


def test_a_menu_lists_only_the_pages_the_user_may_open(rep, manager):
    def sales_keys(user):
        sales = next(
            entry for entry in nav_entries_for(nav_items_for(user)) if entry.key == "sales"
        )
        return {item.key for item in sales.items}

    assert "pipelines" not in sales_keys(rep)
    assert "pipelines" in sales_keys(manager)


def test_a_user_without_a_role_sees_no_menus(user_without_role):
    assert nav_entries_for(nav_items_for(user_without_role)) == []


def test_the_page_marks_its_menu_active(rep_client):
    response = rep_client.get(reverse("customers:company_list"))

    assert response.context["nav_active"] == "companies"
    assert response.context["nav_active_group"] == "customers"
    assert 'aria-current="page"' in response.content.decode()
