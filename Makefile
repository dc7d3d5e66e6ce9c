# Two commands on a fresh Debian 12 machine:
#   make run   — install, build, migrate ./var/kefu.db, load demo data, start kefud on :8080
#   make test  — install, build, run every test
BUILD ?= build
export KEFU_ADMIN_PASSWORD ?= Admin@2026

.PHONY: deps build web run test unit api e2e fuzz bench clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@ninja -C $(BUILD)
	@bash scripts/build-web.sh

web: deps
	@bash scripts/build-web.sh

run: build
	@mkdir -p var
	@echo ""
	@echo "  Kefu is starting on http://127.0.0.1:8080"
	@echo "  Sign in as admin / $(KEFU_ADMIN_PASSWORD)   (demo staff, e.g. zhangwei, password Kefu@2026)"
	@echo "  API description: http://127.0.0.1:8080/api/openapi.json"
	@echo ""
	@echo "  SIP on 127.0.0.1:5060 (UDP/TCP): register a softphone as 8004 / Kefu@8004 (liuyang)"
	@echo ""
	@KEFU_DB=var/kefu.db KEFU_CTI_SIP_LISTEN=$${KEFU_CTI_SIP_LISTEN-127.0.0.1:5060} $(BUILD)/src/kefud --demo

unit: build
	@cd $(BUILD) && ctest --output-on-failure -j2

api: build
	@bash tests/run-api.sh

e2e: build
	@bash tests/e2e/run.sh

fuzz: deps
	@bash fuzz/run-smoke.sh

# Every part runs even when one fails; the summary at the end names each part's outcome.
test: build
	@BUILD=$(BUILD) bash scripts/test-all.sh

bench: build
	@$(BUILD)/bench/kefu_bench_acd 1000000
	@$(BUILD)/bench/kefu_bench_media 500 10
	@$(BUILD)/bench/kefu_bench_media 700 10 listen
	@bash bench/run-simulate.sh
	@bash bench/run-http.sh
	@node bench/web-console.mjs 10
	@/usr/bin/python3 bench/run-sip.py

clean:
	rm -rf $(BUILD) build-fuzz web/dist
