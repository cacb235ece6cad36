"""Logs in to Superset with headless Chromium (Debian's chromium and chromium-driver, through
Selenium from Superset's own virtualenv), opens a dashboard, waits until each of its charts
has drawn, and saves a PNG of it. Run by tests/client/test_superset.py:

    <superset venv>/bin/python tests/superset/screenshot.py BASE_URL USER PASSWORD DASHBOARD_ID CHARTS OUT.png

CHARTS: how many ECharts charts the dashboard has. Prints a JSON object: the number of charts drawn and the page's title."""

import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

base, user, password, dashboard, charts, out = sys.argv[1:7]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1600,1400",
            "--hide-scrollbars"]:
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.set_page_load_timeout(120)
    driver.get(f"{base}/login/")
    # Superset 6's login page is drawn by its frontend: wait for the form
    deadline = time.time() + 60
    while not driver.find_elements(By.CSS_SELECTOR, "[data-test=login-button]") and time.time() < deadline:
        time.sleep(0.5)
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "[data-test=login-button]").click()
    deadline = time.time() + 60
    while "/login" in driver.current_url and time.time() < deadline:
        time.sleep(0.5)
    if "/login" in driver.current_url:
        sys.exit("the login did not go through")
    driver.get(f"{base}/superset/dashboard/{dashboard}/?standalone=1")
    # an ECharts chart draws into a canvas: wait until CHARTS of them have (the time series;
    # a table chart has none), then let the animation finish
    deadline = time.time() + 180
    drawn = 0
    while time.time() < deadline:
        drawn = len(driver.find_elements(By.CSS_SELECTOR, ".chart-container canvas"))
        if drawn >= int(charts):
            break
        time.sleep(1)
    time.sleep(3)
    driver.save_screenshot(out)
    print(json.dumps({"charts_drawn": drawn, "title": driver.title}))
finally:
    driver.quit()
