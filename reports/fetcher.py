"""WeasyPrint's URL fetcher for the reports: the project's static files and nothing else."""

import mimetypes

from weasyprint.urls import URLFetcher, URLFetcherResponse

from reports.pdf import static_file


class StaticFilesOnly(URLFetcher):
    """Answers `file:///static/…` URLs from the static files (`reports.pdf.static_file`);
    refuses any other URL (another file, http, https, ftp, data…) without opening it, so
    WeasyPrint leaves that resource out."""

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = static_file(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )
