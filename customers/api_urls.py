from customers.api import CompanyViewSet, CustomerViewSet

routes = [
    ("customers", CustomerViewSet, "customer"),
    ("companies", CompanyViewSet, "company"),
]
urlpatterns = []
