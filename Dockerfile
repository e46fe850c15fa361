# The image the Kubernetes recipe runs (`sheetsync schedule emit --target k8s --image IMAGE`):
#   docker build -t registry.example.com/sheetsync:1.0 . && docker push registry.example.com/sheetsync:1.0
# sheetsync is installed from this checkout (it is not on PyPI). No keys in the image: they come from
# the Kubernetes Secret at run time. Statement jobs print PDFs with LibreOffice: build with
# --build-arg WITH_LIBREOFFICE=1 for those.
FROM python:3.12-slim
ARG WITH_LIBREOFFICE=0
RUN if [ "$WITH_LIBREOFFICE" = 1 ]; then apt-get update -qq \
      && apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui \
      && rm -rf /var/lib/apt/lists/*; fi
COPY . /src
RUN pip install --no-cache-dir /src && rm -rf /src && useradd --create-home sheetsync
USER sheetsync
WORKDIR /config
CMD ["sheetsync", "schedule", "run-due", "-f", "/config/schedule.yaml"]
