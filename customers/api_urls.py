from rest_framework.routers import DefaultRouter

from customers.api import CompanyViewSet, CustomerViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("companies", CompanyViewSet, basename="company")

urlpatterns = router.urls
