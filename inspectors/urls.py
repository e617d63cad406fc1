app_name = "inspectors"
urlpatterns: list = []
