# Registers (or with -Uninstall removes) Bantrail's native messaging host for
# the current Windows user: writes the manifests from the templates beside this
# script into %LOCALAPPDATA%\Bantrail and points each browser's per-user
# registry key at them. Linux and macOS: use `bantrail install`.
#
#   powershell -ExecutionPolicy Bypass -File windows-install.ps1 -HostPath C:\path\bantrail-host.exe
#   powershell -ExecutionPolicy Bypass -File windows-install.ps1 -Uninstall
param(
    [string]$HostPath,
    [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'

# Must match include/bantrail/caller.h (tests/test_install.py checks it).
$ChromiumId = 'bnmdnnfnpiijlnoabddbmgcfkcfcmknl'
$GeckoId = 'bantrail@bantrail.org'
$Name = 'org.bantrail.host'

$Keys = [ordered]@{
    'chrome'   = 'HKCU:\Software\Google\Chrome\NativeMessagingHosts'
    'chromium' = 'HKCU:\Software\Chromium\NativeMessagingHosts'
    'edge'     = 'HKCU:\Software\Microsoft\Edge\NativeMessagingHosts'
    'brave'    = 'HKCU:\Software\BraveSoftware\Brave-Browser\NativeMessagingHosts'
    'vivaldi'  = 'HKCU:\Software\Vivaldi\NativeMessagingHosts'
    'firefox'  = 'HKCU:\Software\Mozilla\NativeMessagingHosts'
}
$Dir = Join-Path $env:LOCALAPPDATA 'Bantrail'

if ($Uninstall) {
    foreach ($b in $Keys.Keys) {
        $k = Join-Path $Keys[$b] $Name
        if (Test-Path $k) { Remove-Item $k; Write-Output "$b`: removed" }
    }
    foreach ($f in 'chromium', 'firefox') {
        $m = Join-Path $Dir "$Name.$f.json"
        if (Test-Path $m) { Remove-Item $m }
    }
    exit 0
}

if (-not $HostPath -or -not (Test-Path $HostPath -PathType Leaf)) {
    Write-Error 'Give -HostPath: the full path of bantrail-host.exe'
    exit 2
}
$HostPath = (Resolve-Path $HostPath).Path
New-Item -ItemType Directory -Force -Path $Dir | Out-Null
# the path as a JSON string body: backslashes and quotes escaped
$JsonPath = $HostPath.Replace('\', '\\').Replace('"', '\"')
foreach ($f in 'chromium', 'firefox') {
    $t = Get-Content -Raw -Path (Join-Path $PSScriptRoot "$f.json.in")
    $t = $t.Replace('@HOST_PATH@', $JsonPath).Replace('@CHROMIUM_ID@', $ChromiumId).Replace('@GECKO_ID@', $GeckoId)
    Set-Content -NoNewline -Encoding UTF8 -Path (Join-Path $Dir "$Name.$f.json") -Value $t
}
foreach ($b in $Keys.Keys) {
    $family = if ($b -eq 'firefox') { 'firefox' } else { 'chromium' }
    $k = Join-Path $Keys[$b] $Name
    New-Item -Force -Path $k | Out-Null
    Set-ItemProperty -Path $k -Name '(default)' -Value (Join-Path $Dir "$Name.$family.json")
    Write-Output "$b`: registered"
}
